// Bundles the program into dist/main.js, which picks the command, and one file per command in
// dist/commands/: Node loads one file instead of the hundreds of modules effect and its platform
// packages are made of, which cuts start-up time (about 4x on these machines), and each command
// loads only what it runs, so `--help` and `plan` never load the Kubernetes client. Type checking
// is `npm run typecheck`'s job, not this script's.
import { build } from "esbuild"
import { commandOptions, launcherOptions } from "./build-options.mjs"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

// A fresh directory leaves no file of an older layout behind.
rmSync("dist", { recursive: true, force: true })
const results = await Promise.all([build(launcherOptions), build(commandOptions)])
const inputs = results.flatMap((result) => Object.keys(result.metafile.inputs))

// Every package bundled into dist/, with its licence text: Apache-2.0 and others require the
// licence to travel with the code, and the image ships the bundle without node_modules.
const packageDirOf = (file) => {
  const parts = file.split("/")
  const at = parts.lastIndexOf("node_modules")
  if (at < 0) return undefined
  return parts.slice(0, at + (parts[at + 1]?.startsWith("@") ? 3 : 2)).join("/")
}
const packages = [...new Set(inputs.map(packageDirOf).filter((d) => d !== undefined))].sort()
const notices = packages.map((dir) => {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  const licenceFile = existsSync(dir) ? readdirSync(dir).find((f) => /^(licen[cs]e|copying|notice)/i.test(f)) : undefined
  const text = licenceFile === undefined ? `(no licence file shipped; package.json says ${meta.license ?? "nothing"})` : readFileSync(join(dir, licenceFile), "utf8").trim()
  return `${meta.name}@${meta.version} (${meta.license ?? "unknown"})\n\n${text}`
})
writeFileSync(join(dirname("dist/main.js"), "THIRD_PARTY_LICENSES"), `Packages bundled into dist/ and their licences.\n\n${notices.join(`\n\n${"-".repeat(72)}\n\n`)}\n`)
