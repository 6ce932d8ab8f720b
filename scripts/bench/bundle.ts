/**
 * What each command loads from the bundle, read from the build's metafile (esbuild with the
 * options of `npm run build`, written nowhere): the outputs and their sizes, the inputs in them.
 */
import { build, type Metafile } from "esbuild"
import { buildOptions } from "../build-options.mjs"
import { root } from "../../test/support/Cli.js"

export const bundleMetafile = async (): Promise<Metafile> =>
  (await build({ ...buildOptions, absWorkingDir: root, write: false, metafile: true, logLevel: "silent" })).metafile

/** The outputs a file loads: itself and what it imports statically, transitively. */
export const loadedFrom = (meta: Metafile, start: string): ReadonlySet<string> => {
  const seen = new Set<string>()
  const visit = (output: string) => {
    if (seen.has(output)) return
    seen.add(output)
    for (const entry of meta.outputs[output]?.imports ?? []) if (entry.kind === "import-statement" && !entry.external) visit(entry.path)
  }
  visit(start)
  return seen
}

/** The output whose own code includes `source`. */
export const outputWith = (meta: Metafile, source: string): string =>
  Object.keys(meta.outputs).find((o) => o.endsWith(".js") && Object.keys(meta.outputs[o]?.inputs ?? {}).includes(source)) ?? ""

/** The entry (what `--help` loads) with the chunk `source` lives in, and their static imports. */
export const loadedBy = (meta: Metafile, source?: string): ReadonlySet<string> =>
  new Set([...loadedFrom(meta, "dist/main.js"), ...(source === undefined ? [] : loadedFrom(meta, outputWith(meta, source)))])

export const inputsOf = (meta: Metafile, outputs: Iterable<string>): ReadonlyArray<string> =>
  [...outputs].flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {}))

const bytesOf = (meta: Metafile, outputs: Iterable<string>) => [...outputs].reduce((sum, o) => sum + (meta.outputs[o]?.bytes ?? 0), 0)

/** The bundle's size in KB: all of it, and what `--help`, `plan` and `run` load. */
export const bundleSizes = async () => {
  const meta = await bundleMetafile()
  const js = Object.keys(meta.outputs).filter((o) => o.endsWith(".js"))
  const kb = (bytes: number) => Math.round(bytes / 1024)
  return {
    total_kb: kb(bytesOf(meta, js)), files: js.length,
    help_kb: kb(bytesOf(meta, loadedBy(meta))),
    plan_kb: kb(bytesOf(meta, loadedBy(meta, "src/plan/PlanProgram.ts"))),
    run_kb: kb(bytesOf(meta, loadedBy(meta, "src/cli/RunAgent.ts")))
  }
}
