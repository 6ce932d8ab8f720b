/**
 * What each command loads, read from the build's own metafile: the entry (everything `--help`
 * runs) and `plan` hold no module of the Kubernetes client; `run` does.
 */
import { describe, expect, it } from "@effect/vitest"
import { bundleMetafile, inputsOf, loadedBy } from "../../scripts/bench/bundle.js"

const kubernetesClient = (input: string) => input.includes("node_modules/@kubernetes/client-node/")

describe("the bundle", () => {
  it("--help and plan load no module of the Kubernetes client; run does", async () => {
    const meta = await bundleMetafile()
    expect(inputsOf(meta, loadedBy(meta)).filter(kubernetesClient)).toEqual([])
    expect(inputsOf(meta, loadedBy(meta, "src/plan/PlanProgram.ts")).filter(kubernetesClient)).toEqual([])
    expect(inputsOf(meta, loadedBy(meta, "src/cli/RunAgent.ts")).some(kubernetesClient)).toBe(true)
  }, 60_000)
})
