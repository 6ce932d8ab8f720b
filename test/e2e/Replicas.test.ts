/**
 * Two built agents as processes against one API-server simulator and one reference controller,
 * with short lease durations: the leader writes; killed (SIGKILL) or stopped (SIGTERM), the other
 * takes over and a change made meanwhile reaches the controller.
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

const dir = mkdtempSync(join(tmpdir(), "agent-replicas-"))
const tokens = new Map([["agent-token", "uid-ha"]])

/** A cluster, a controller and two agents (pods `agent-a` and `agent-b`) electing through one Lease. */
const replicas = Effect.gen(function* () {
  const sim = yield* simulator({ token: "kube-token", kubeSystemUid: "uid-ha" })
  sim.store.upsert(ingresses, ingress({ name: "a", host: "a.example.com" }))
  const controller = yield* serveController(tokens)
  const kubeconfig = join(dir, `kubeconfig-${sim.port}`)
  writeFileSync(kubeconfig, sim.kubeconfig())
  const start = (pod: string) => Effect.acquireRelease(Effect.sync(() => startCli(["run", "--admin-port", "0"], {
    KUBECONFIG: kubeconfig, PIPEOPS_API_URL: controller.url, PIPEOPS_TOKEN: "agent-token", POD_NAME: pod, POD_NAMESPACE: "agents",
    PIPEOPS_HEARTBEAT_INTERVAL: "1s", PIPEOPS_LEADER_ELECTION_LEASE_DURATION: "3s", PIPEOPS_LEADER_ELECTION_RENEW_DEADLINE: "2s",
    PIPEOPS_LEADER_ELECTION_RETRY_PERIOD: "500ms"
  })), (agent) => Effect.promise(() => agent.stop("SIGKILL")))
  const agents = { "agent-a": yield* start("agent-a"), "agent-b": yield* start("agent-b") }
  const get = (path: string) => Effect.promise(async () => {
    const response = await fetch(`${controller.url}${path}`, { headers: { authorization: "Bearer agent-token" } })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })
  /** The pod whose agent sent the controller's last heartbeat. */
  const heartbeatFrom = Effect.map(get("/api/v1/clusters/agent/uid-ha"), (v) => String(v.body["agent_id"] ?? "").split("_")[0] ?? "")
  const routes = Effect.map(get("/api/v1/gateway/routes/cluster/uid-ha"), (v) =>
    ((v.body["routes"] ?? []) as ReadonlyArray<{ hostname: string }>).map((r) => r.hostname))
  const leader = yield* eventually(heartbeatFrom, (pod) => pod === "agent-a" || pod === "agent-b", 20_000)
  const follower = leader === "agent-a" ? "agent-b" : "agent-a"
  return { sim, agents, leader, follower, heartbeatFrom, routes }
})

describe("two agents (built program)", () => {
  it.live("the leader killed with SIGKILL: the other takes over once the lease expires, with a change made meanwhile", () =>
    Effect.gen(function* () {
      const t = yield* replicas
      expect(yield* eventually(t.routes, (r) => r.includes("a.example.com"))).toEqual(["a.example.com"])
      yield* Effect.promise(() => t.agents[t.leader as "agent-a"].stop("SIGKILL"))
      t.sim.store.upsert(ingresses, ingress({ name: "b", host: "b.example.com" }))
      yield* eventually(t.heartbeatFrom, (pod) => pod === t.follower, 20_000)
      expect(yield* eventually(t.routes, (r) => r.includes("b.example.com"), 20_000)).toEqual(["a.example.com", "b.example.com"])
      expect(t.agents[t.follower as "agent-a"].output()).toContain("became leader")
    }).pipe(Effect.scoped), 60_000)

  it.live("the leader stopped with SIGTERM releases the lease and exits 0; the other takes over at once", () =>
    Effect.gen(function* () {
      const t = yield* replicas
      const stopped = Date.now()
      expect(yield* Effect.promise(() => t.agents[t.leader as "agent-a"].stop("SIGTERM"))).toBe(0)
      expect(t.agents[t.leader as "agent-a"].output()).toContain("released the lease")
      yield* eventually(t.heartbeatFrom, (pod) => pod === t.follower, 20_000)
      // Well inside the 3 s lease: the release, not its expiry, handed over.
      expect(Date.now() - stopped).toBeLessThan(3_000)
      const holders = t.sim.store.leases.writes().map((w) => w.split(" ")[2] ?? "")
      expect(holders.slice(-2)).toEqual(["", expect.stringMatching(new RegExp(`^${t.follower}_`))])
    }).pipe(Effect.scoped), 60_000)
})
