/**
 * What each command loads, read from the build's own metafile: the entry (everything `--help`
 * runs) and `plan` hold no module of the Kubernetes client; `run` does.
 */
import { describe, expect, it } from "@effect/vitest"
import { build, type Metafile } from "esbuild"
import { buildOptions } from "../../scripts/build-options.mjs"
import { root } from "../support/Cli.js"

const metafile = async (): Promise<Metafile> => {
  const result = await build({ ...buildOptions, absWorkingDir: root, write: false, metafile: true, logLevel: "silent" })
  return result.metafile
}

/** The outputs a file loads: itself and what it imports statically, transitively. */
const loaded = (meta: Metafile, start: string): ReadonlySet<string> => {
  const seen = new Set<string>()
  const visit = (output: string) => {
    if (seen.has(output)) return
    seen.add(output)
    for (const entry of meta.outputs[output]?.imports ?? []) if (entry.kind === "import-statement" && !entry.external) visit(entry.path)
  }
  visit(start)
  return seen
}

const inputsOf = (meta: Metafile, outputs: Iterable<string>) => [...outputs].flatMap((o) => Object.keys(meta.outputs[o]?.inputs ?? {}))

/** The output whose own code includes `source`. */
const outputWith = (meta: Metafile, source: string) =>
  Object.keys(meta.outputs).find((o) => o.endsWith(".js") && Object.keys(meta.outputs[o]?.inputs ?? {}).includes(source)) ?? ""

const kubernetesClient = (input: string) => input.includes("node_modules/@kubernetes/client-node/")

describe("the bundle", () => {
  it("--help and plan load no module of the Kubernetes client; run does", async () => {
    const meta = await metafile()
    const entry = loaded(meta, "dist/main.js")
    expect(inputsOf(meta, entry).filter(kubernetesClient)).toEqual([])
    const plan = loaded(meta, outputWith(meta, "src/plan/PlanProgram.ts"))
    expect(inputsOf(meta, new Set([...entry, ...plan])).filter(kubernetesClient)).toEqual([])
    const run = loaded(meta, outputWith(meta, "src/cli/RunAgent.ts"))
    expect(inputsOf(meta, run).some(kubernetesClient)).toBe(true)
  }, 60_000)
})
