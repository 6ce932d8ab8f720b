/**
 * What each command loads, read from the build's metafile (esbuild with the options of
 * `npm run build`, written nowhere): `dist/main.js` picks one bundle of `dist/commands/` and
 * loads nothing else, so a command loads the launcher and its bundle.
 */
import { build, type Metafile } from "esbuild"
import { commandOptions, launcherOptions } from "../build-options.mjs"
import { root } from "../../test/support/Cli.js"

/** The command bundles: `cli` is what `--help`, `--version` and an unknown command load. */
export type Bundle = "run" | "plan" | "controller" | "cli"

const metafileOf = async (options: typeof commandOptions): Promise<Metafile> =>
  (await build({ ...options, absWorkingDir: root, write: false, metafile: true, sourcemap: false, logLevel: "silent" })).metafile

export const commandsMetafile = (): Promise<Metafile> => metafileOf(commandOptions)

/** The source files in a command's bundle. */
export const inputsOf = (meta: Metafile, bundle: Bundle): ReadonlyArray<string> =>
  Object.keys(meta.outputs[`dist/commands/${bundle}.cjs`]?.inputs ?? {})

/** The bundle's size in KB: all of it, and what `--help`, `plan` and `run` load. */
export const bundleSizes = async () => {
  const [launcher, commands] = await Promise.all([metafileOf(launcherOptions), commandsMetafile()])
  const launcherBytes = launcher.outputs["dist/main.js"]?.bytes ?? 0
  const loads = (bundle: Bundle) => Math.round((launcherBytes + (commands.outputs[`dist/commands/${bundle}.cjs`]?.bytes ?? 0)) / 1024)
  const js = [launcher, commands].flatMap((meta) => Object.entries(meta.outputs)).filter(([name]) => /\.c?js$/.test(name))
  return {
    total_kb: Math.round(js.reduce((sum, [, output]) => sum + output.bytes, 0) / 1024), files: js.length,
    help_kb: loads("cli"), plan_kb: loads("plan"), run_kb: loads("run"), controller_kb: loads("controller")
  }
}
