// Bundles the program into dist/main.js and a few chunks beside it (dist/chunks/): Node loads a
// few files instead of the hundreds of modules effect and its platform packages are made of, which
// cuts start-up time (about 4x on these machines), and each command loads only what it runs: the
// entry holds the CLI and help; `run`, `plan` and `controller` import their own code when they
// start, so `--help` and `plan` never load the Kubernetes client. Type checking is
// `npm run typecheck`'s job, not this script's.
import { build } from "esbuild"
import { buildOptions } from "./build-options.mjs"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

// Chunk names carry content hashes: a fresh directory leaves no stale chunk behind.
rmSync("dist", { recursive: true, force: true })
const result = await build(buildOptions)

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
