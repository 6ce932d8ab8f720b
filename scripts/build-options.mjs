// The esbuild options of `npm run build`, shared with the test that checks what each command loads.
export const buildOptions = {
  entryPoints: ["src/main.ts"],
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  // Minified, the bundle is a half of the size and pure ASCII, which V8 keeps one byte per
  // character: unminified, a comment's "ä" made it hold the 5 MB source as 10.8 MB of UTF-16.
  // Names are not kept: keepNames renames every closure as it is made, 15 % more CPU per event
  // (BENCHMARKS.md); main.js.map maps stack traces back (node --enable-source-maps). The
  // dependencies' license comments go to a .LEGAL.txt beside each file.
  minify: true,
  legalComments: "external",
  logLevel: "warning",
  metafile: true,
  // ws masks what the agent sends through its optional native "bufferutil"; ours is JS, word-wise.
  alias: { bufferutil: "./src/tunnel/Mask.ts" },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
}
