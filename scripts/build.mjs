// Bundles the program into one ESM file, dist/main.js: Node loads one file instead of the
// hundreds of modules effect and its platform packages are made of, which cuts start-up time
// (about 4x on these machines). Type checking is `npm run typecheck`'s job, not this script's.
import { build } from "esbuild"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

const result = await build({
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
  metafile: true,
  // ws masks what the agent sends through its optional native "bufferutil"; ours is JS, word-wise.
  alias: { bufferutil: "./src/tunnel/Mask.ts" },
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
})

// Every package bundled into dist/main.js, with its licence text: Apache-2.0 and others require the
// licence to travel with the code, and the image ships the bundle without node_modules.
const packageDirOf = (file) => {
  const parts = file.split("/")
  const at = parts.lastIndexOf("node_modules")
  if (at < 0) return undefined
  return parts.slice(0, at + (parts[at + 1]?.startsWith("@") ? 3 : 2)).join("/")
}
const packages = [...new Set(Object.keys(result.metafile.inputs).map(packageDirOf).filter((d) => d !== undefined))].sort()
const notices = packages.map((dir) => {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  const licenceFile = existsSync(dir) ? readdirSync(dir).find((f) => /^(licen[cs]e|copying|notice)/i.test(f)) : undefined
  const text = licenceFile === undefined ? `(no licence file shipped; package.json says ${meta.license ?? "nothing"})` : readFileSync(join(dir, licenceFile), "utf8").trim()
  return `${meta.name}@${meta.version} (${meta.license ?? "unknown"})\n\n${text}`
})
writeFileSync(join(dirname("dist/main.js"), "THIRD_PARTY_LICENSES"), `Packages bundled into dist/main.js and their licences.\n\n${notices.join(`\n\n${"-".repeat(72)}\n\n`)}\n`)
