#!/usr/bin/env node
/**
 * `pipeops-agent`: loads the bundle of the command it is asked for (`dist/commands/`): `run` the
 * agent, `plan` the offline planner, `controller` the reference controller; anything else (the
 * help, `--version`, an unknown command) the CLI alone. Each bundle holds only what its command
 * runs: `--help` and `plan` never load the Kubernetes client. Bundles run with the code their
 * last start compiled (`CodeCache`); with `--enable-source-maps` they are loaded as usual, so
 * stack traces map back to the source.
 *
 * The process's own settings are read here, before any program exists: NODE_OPTIONS (which V8
 * flags apply) and NODE_COMPILE_CACHE (where compiled code is kept).
 */
import { tmpdir } from "node:os"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runCommonJs } from "./CodeCache.js"

const nodeOptions = process.env["NODE_OPTIONS"] ?? ""
const compileCache = process.env["NODE_COMPILE_CACHE"]

// Without a young-generation size on the command line (the images pass --max-semi-space-size=4)
// V8 grows it to 16 MB per semi-space: about 45 MB more RSS at 10,000 Ingresses. Its maximum can
// only be set at start, but its growth factor is read at run time: 1 keeps it at its initial
// size. Set before anything is compiled: V8 keys compiled code by its flags.
const youngGenerationGiven = [...process.execArgv, nodeOptions].some((arg) => /--(max-|min-)?semi-space-size|--semi-space-growth-factor/.test(arg))
if (!youngGenerationGiven) setFlagsFromString("--semi-space-growth-factor=1")

const commands = ["run", "plan", "controller"]
const args = process.argv.slice(2)
const asksHelp = args.includes("--help") || args.includes("-h")
const command = !asksHelp && commands.includes(args[0] ?? "") ? args[0] : "cli"
const bundle = fileURLToPath(new URL(`commands/${command}.cjs`, import.meta.url))

if (process.sourceMapsEnabled) {
  createRequire(import.meta.url)(bundle)
} else {
  runCommonJs(bundle, {
    // One directory per user in a shared temporary directory: it must be the user's alone.
    directory: compileCache === undefined ? join(tmpdir(), `pipeops-agent-${process.getuid?.() ?? "cache"}`) : join(compileCache, "pipeops-agent"),
    // The flags set above follow from these two.
    runtime: [process.version, process.arch, ...process.execArgv, nodeOptions].join(" "),
    // After the start-up (the first sync) and its first minutes, before a long life begins.
    saveAfterMs: 10_000
  })
}
