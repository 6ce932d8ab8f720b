/**
 * What each command loads, read from the build's own metafile: the help's bundle and `plan`'s hold
 * no module of the Kubernetes client; `run`'s does.
 */
import { describe, expect, it } from "@effect/vitest"
import { commandsMetafile, inputsOf } from "../../scripts/bench/bundle.js"

const kubernetesClient = (input: string) => input.includes("node_modules/@kubernetes/client-node/")

describe("the bundle", () => {
  const built = commandsMetafile()

  it("--help and plan load no module of the Kubernetes client; run does", async () => {
    const meta = await built
    expect(inputsOf(meta, "cli").filter(kubernetesClient)).toEqual([])
    expect(inputsOf(meta, "plan").filter(kubernetesClient)).toEqual([])
    expect(inputsOf(meta, "run").some(kubernetesClient)).toBe(true)
  }, 60_000)

  it("run loads of the Kubernetes client what KubeConfig uses, not its generated API nor node-fetch", async () => {
    const inputs = inputsOf(await built, "run")
    expect(inputs.filter((input) => /client-node\/dist\/gen\/apis\//.test(input))).toEqual([])
    expect(inputs.filter((input) => input.includes("node_modules/node-fetch/"))).toEqual([])
    expect(inputs).toContain("node_modules/@kubernetes/client-node/dist/config.js")
  }, 60_000)
})
