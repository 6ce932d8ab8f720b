// Bundles the program into one ESM file, dist/main.js: Node loads one file instead of the
// hundreds of modules effect and its platform packages are made of, which cuts start-up time
// (about 4x on these machines). Type checking is `npm run typecheck`'s job, not this script's.
import { build } from "esbuild"

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  // Minified, the bundle is a half of the size and pure ASCII, which V8 keeps one byte per
  // character: unminified, a comment's "ä" made it hold the 5 MB source as 10.8 MB of UTF-16.
  // Names are not kept: keepNames renames every closure as it is made, 15 % more CPU per event
  // (BENCHMARKS.md); main.js.map maps stack traces back (node --enable-source-maps). The
  // dependencies' license comments go to main.js.LEGAL.txt.
  minify: true,
  legalComments: "external",
  logLevel: "warning",
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
})
