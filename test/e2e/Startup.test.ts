/**
 * The built agent's start when the cluster UUID cannot be read at once: a 403 or a missing
 * namespace ends the start with one error line; an API server that is not up yet is waited for.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { simulator } from "../support/ApiServerSimulator.js"
import { ingress } from "../support/Builders.js"
import { startCli } from "../support/Cli.js"
import { serveController } from "../support/ControllerServer.js"
import { eventually } from "../support/Eventually.js"
import { freePort } from "../support/Ports.js"

const dir = mkdtempSync(join(tmpdir(), "agent-startup-"))

const agentAgainst = (kubeconfig: string, controllerUrl: string, adminPort: number) => Effect.acquireRelease(
  Effect.sync(() => startCli(["run"], {
    KUBECONFIG: kubeconfig, PIPEOPS_API_URL: controllerUrl, PIPEOPS_TOKEN: "agent-token", PIPEOPS_ADMIN_PORT: String(adminPort)
  })),
  (agent) => Effect.promise(() => agent.stop("SIGKILL")))

describe("pipeops-agent run: the cluster UUID at start (built program)", () => {
  it.live.each([
    [403, "grant get on namespaces/kube-system"],
    [404, "the kube-system namespace does not exist"]
  ] as const)("the kube-system namespace answered %d: exit 1 with one error line naming what to set", ([status, says]) =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "kube-token", kubeSystemStatus: status })
      const controller = yield* serveController(new Map([["agent-token", "uid"]]))
      const kubeconfig = join(dir, `kubeconfig-${sim.port}`)
      writeFileSync(kubeconfig, sim.kubeconfig())
      const agent = yield* agentAgainst(kubeconfig, controller.url, yield* freePort())
      expect(yield* Effect.promise(() => agent.exited)).toBe(1)
      const errors = agent.output().split("\n").filter((line) => line.startsWith("error:"))
      expect(errors).toHaveLength(1)
      expect(errors[0]).toContain(says)
      expect(errors[0]).toContain("--cluster-uuid")
      expect(agent.output()).not.toMatch(/\n\s+at /)
    }).pipe(Effect.scoped), 30_000)

  it.live("an API server not up yet is waited for, readiness saying why; then the agent syncs", () =>
    Effect.gen(function* () {
      const port = yield* freePort()
      const adminPort = yield* freePort()
      const controller = yield* serveController(new Map([["agent-token", "uid-late"]]))
      const kubeconfig = join(dir, `kubeconfig-late-${port}`)
      writeFileSync(kubeconfig, ["apiVersion: v1", "kind: Config", "current-context: sim", "clusters:", "- name: sim", "  cluster:",
        `    server: http://127.0.0.1:${port}`, "    insecure-skip-tls-verify: true", "users:", "- name: sim", "  user:", "    token: kube-token", "contexts:", "- name: sim",
        "  context:", "    cluster: sim", "    user: sim"].join("\n") + "\n")
      const agent = yield* agentAgainst(kubeconfig, controller.url, adminPort)
      const readyz = Effect.promise(async () => {
        const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined)
        return response === undefined ? "" : await response.text()
      })
      const waiting = yield* eventually(readyz, (body) => body.includes("cluster UUID not read yet"), 20_000)
      expect(waiting).toContain("ECONNREFUSED")
      const sim = yield* simulator({ token: "kube-token", kubeSystemUid: "uid-late", port })
      sim.store.upsert(ingresses, ingress({ name: "a", host: "a.example.com" }))
      yield* eventually(readyz, (body) => body.includes(`"ready":true`), 30_000)
      expect(agent.output()).toContain("cannot read the kube-system namespace yet; retrying")
    }).pipe(Effect.scoped), 60_000)
})
