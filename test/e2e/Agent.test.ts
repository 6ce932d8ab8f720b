/**
 * The built agent as a process against the API-server simulator and the reference controller,
 * both on loopback.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Scope } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses, services } from "../../src/kubernetes/Resources.js"
import { eventually } from "../support/Eventually.js"
import { freePort } from "../support/Ports.js"
import { simulator, type Simulator } from "../support/ApiServerSimulator.js"
import { backend, ingress, path, rule, service } from "../support/Builders.js"
import { startCli } from "../support/Cli.js"
import { serveController } from "../support/ControllerServer.js"

const dir = mkdtempSync(join(tmpdir(), "agent-e2e-"))
const tokens = new Map([["agent-token", "uid-e2e"]])

const twoPaths = (name: string, host: string) =>
  ingress({ name, rules: [rule(host, path("/", backend("web", 80)), path("/api", backend("api", 8080)))] })

/** A cluster, a controller and the agent process between them. */
const environment = (setup: (sim: Simulator) => void = () => undefined, extraEnv: Record<string, string> = {}, args: ReadonlyArray<string> = []) =>
  Effect.gen(function* () {
    const sim = yield* simulator({ token: "kube-token", kubeSystemUid: "uid-e2e" })
    setup(sim)
    const controllerScope = yield* Scope.make()
    const controller = yield* serveController(tokens).pipe(Scope.extend(controllerScope))
    const kubeconfig = join(dir, `kubeconfig-${sim.port}`)
    writeFileSync(kubeconfig, sim.kubeconfig())
    const adminPort = yield* freePort()
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => startCli(["run", ...args], {
        KUBECONFIG: kubeconfig, PIPEOPS_API_URL: controller.url, PIPEOPS_TOKEN: "agent-token",
        PIPEOPS_ADMIN_PORT: String(adminPort), LOG_LEVEL: "debug", ...extraEnv
      })),
      (agent) => Effect.promise(() => agent.stop("SIGKILL")))
    const routes = Effect.promise(async () => {
      const response = await fetch(`${controller.url}/api/v1/gateway/routes/cluster/uid-e2e`, { headers: { authorization: "Bearer agent-token" } })
      const body = (await response.json()) as { routes: ReadonlyArray<{ hostname: string; path: string }> }
      return body.routes.map((r) => `${r.hostname}${r.path}`)
    })
    const admin = (endpoint: string) => Effect.promise(async () => {
      const response = await fetch(`http://127.0.0.1:${adminPort}${endpoint}`).catch(() => undefined)
      return response === undefined ? { status: 0, body: "" } : { status: response.status, body: await response.text() }
    })
    const controllerView = Effect.promise(async () => {
      const response = await fetch(`${controller.url}/api/v1/clusters/agent/uid-e2e`, { headers: { authorization: "Bearer agent-token" } })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    })
    return { sim, agent, routes, admin, controllerView, controllerScope, controllerPort: controller.port }
  })

describe("pipeops-agent run (built program)", () => {
  it.live("syncs 50 Ingresses at startup, then follows adds, updates and deletes", () =>
    Effect.gen(function* () {
      const env = yield* environment((sim) => {
        for (let i = 0; i < 50; i++) sim.store.upsert(ingresses, twoPaths(`app-${i}`, `app-${i}.example.com`))
      })
      yield* eventually(env.routes, (r) => r.length === 100, 20_000)
      yield* Effect.promise(() => env.agent.waitForLog("syncing existing ingresses to controller"))
      env.sim.store.upsert(ingresses, twoPaths("new", "new.example.com"))
      yield* eventually(env.routes, (r) => r.includes("new.example.com/api"))
      env.sim.store.upsert(ingresses, ingress({ name: "app-0", host: "moved.example.com" }))
      yield* eventually(env.routes, (r) => r.includes("moved.example.com/") && !r.includes("app-0.example.com/"))
      env.sim.store.remove(ingresses, "default", "app-1")
      const final = yield* eventually(env.routes, (r) => !r.includes("app-1.example.com/"))
      expect(final).toHaveLength(100 - 2 + 2 - 2 + 1)
      // The log: one flat JSON object per line, and a line for each thing the agent did.
      const lines = env.agent.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>)
      for (const line of lines) {
        expect(Object.keys(line).slice(0, 3)).toEqual(["ts", "level", "msg"])
        for (const noise of ["fiberId", "spans", "annotations", "message", "logLevel"]) expect(line).not.toHaveProperty(noise)
      }
      const said = (msg: string) => lines.filter((l) => l["msg"] === msg)
      expect(said("routes synced")[0]).toMatchObject({ level: "info", ingresses: 50, routes: 100, conflicts: 0 })
      expect(said("route registered")).toContainEqual(expect.objectContaining({ hostname: "new.example.com", path: "/api", ingress: "default/new" }))
      expect(said("route unregistered").map((l) => l["hostname"]).sort()).toEqual(["app-0.example.com", "app-1.example.com"])
    }).pipe(Effect.scoped), 60_000)

  it.live("reports ready only after the initial sync, with the heartbeat metadata in /status and metrics", () =>
    Effect.gen(function* () {
      const env = yield* environment((sim) => {
        sim.store.upsert(services, service({ lb: [{ ip: "203.0.113.45" }] }))
        sim.store.upsert(ingresses, twoPaths("a", "a.example.com"))
        sim.inject("list", services, { kind: "delay", millis: 3_000 })
      })
      const first = yield* eventually(env.admin("/readyz"), (r) => r.status !== 0, 20_000)
      expect(first.status).toBe(503)
      // Then, while the Services list is delayed, it says so. (Whether "initial sync not done" is
      // listed too depends on whether the Lease was won yet: a follower is ready on its caches.)
      const waiting = yield* eventually(env.admin("/readyz"), (r) => r.body.includes("services not synced"), 20_000)
      expect(waiting.status).toBe(503)
      const ready = yield* eventually(env.admin("/readyz"), (r) => r.status === 200, 20_000)
      expect(JSON.parse(ready.body)).toEqual({ ready: true, reasons: [] })
      const status = JSON.parse((yield* env.admin("/status")).body)
      expect(status).toMatchObject({ cluster_uuid: "uid-e2e", is_private: false, routing_mode: "direct", public_endpoint: "203.0.113.45:80", gateway_routes: 2 })
      expect(status.leader).toMatchObject({ is_leader: true, lease: "default/pipeops-agent", transitions: 0 })
      expect(status.leader.holder).toBe(status.leader.identity)
      const metrics = (yield* env.admin("/metrics")).body
      expect(metrics).toContain(`pipeops_agent_gateway_routing_mode{mode="direct"} 1`)
      expect(metrics).toMatch(/^pipeops_agent_gateway_routes 2$/m)
      expect(metrics).toContain("process_resident_memory_bytes")
      expect((yield* env.admin("/healthz")).status).toBe(200)
      for (const text of [env.agent.output(), metrics, JSON.stringify(status)]) expect(text).not.toContain("agent-token")
    }).pipe(Effect.scoped), 60_000)

  it.live("heartbeats reach the controller: its cluster view shows the agent's mode, endpoint and route count", () =>
    Effect.gen(function* () {
      const env = yield* environment((sim) => {
        sim.store.upsert(services, service({ lb: [{ ip: "203.0.113.45" }] }))
        sim.store.upsert(ingresses, twoPaths("a", "a.example.com"))
      }, { PIPEOPS_HEARTBEAT_INTERVAL: "1s" })
      const view = yield* eventually(env.controllerView, (v) => v.status === 200, 20_000)
      expect(view.body).toMatchObject({
        cluster_uuid: "uid-e2e", agent_version: expect.any(String), k8s_version: "v1.31.2", tunnel_status: "not_used",
        metadata: { is_private: false, routing_mode: "direct", public_endpoint: "203.0.113.45:80", gateway_routes: 2 }, registered_routes: 2
      })
      expect(String(view.body["agent_id"])).toMatch(/_[0-9a-f]{8}$/)
      env.sim.store.upsert(services, service({ lb: [] }))
      env.sim.store.upsert(ingresses, twoPaths("b", "b.example.com"))
      const later = yield* eventually(env.controllerView, (v) => JSON.stringify(v.body).includes(`"gateway_routes":4`), 20_000)
      expect(later.body["status"]).toBe("healthy")
    }).pipe(Effect.scoped), 60_000)

  it.live("is not ready while the controller refuses its token", () =>
    Effect.gen(function* () {
      const env = yield* environment(() => undefined, { PIPEOPS_TOKEN: "wrong-token" })
      const notReady = yield* eventually(env.admin("/readyz"), (r) => r.status === 503 && r.body.includes("token"), 20_000)
      expect(JSON.parse(notReady.body).ready).toBe(false)
      expect(env.agent.output()).not.toContain("wrong-token")
    }).pipe(Effect.scoped), 60_000)

  it.live("a watch killed mid-stream and a 410 lose no delete", () =>
    Effect.gen(function* () {
      const env = yield* environment((sim) => {
        for (const name of ["a", "b", "c"]) sim.store.upsert(ingresses, twoPaths(name, `${name}.example.com`))
      })
      yield* eventually(env.routes, (r) => r.length === 6, 20_000)
      env.sim.inject("watch", ingresses, { kind: "killAfter", events: 0 }, { kind: "errorEvent", code: 410 })
      env.sim.store.upsert(ingresses, twoPaths("d", "d.example.com"))
      yield* eventually(env.routes, (r) => r.includes("d.example.com/"))
      env.sim.store.remove(ingresses, "default", "a")
      env.sim.store.compact()
      const final = yield* eventually(env.routes, (r) => !r.includes("a.example.com/"), 20_000)
      expect(final).toEqual(["b.example.com/", "b.example.com/api", "c.example.com/", "c.example.com/api", "d.example.com/", "d.example.com/api"])
    }).pipe(Effect.scoped), 60_000)

  it.live("converges after the controller was down for 5 s", () =>
    Effect.gen(function* () {
      const env = yield* environment((sim) => sim.store.upsert(ingresses, twoPaths("a", "a.example.com")))
      yield* eventually(env.routes, (r) => r.length === 2, 20_000)
      yield* Scope.close(env.controllerScope, Exit.void)
      env.sim.store.upsert(ingresses, twoPaths("b", "b.example.com"))
      env.sim.store.remove(ingresses, "default", "a")
      yield* Effect.sleep(Duration.seconds(5))
      yield* serveController(tokens, env.controllerPort)
      // The restarted controller has an empty registry: the agent's pending calls and its periodic
      // resync fill it; what must appear is b, and a must not.
      const final = yield* eventually(env.routes, (r) => r.includes("b.example.com/api") && !r.includes("a.example.com/"), 30_000)
      expect(final).toContain("b.example.com/")
    }).pipe(Effect.scoped), 60_000)

  it.live("--dry-run logs what it would send and sends nothing", () =>
    Effect.gen(function* () {
      const env = yield* environment((sim) => sim.store.upsert(ingresses, twoPaths("a", "a.example.com")), {}, ["--dry-run", "--once"])
      expect(yield* Effect.promise(() => env.agent.exited)).toBe(0)
      expect(env.agent.output()).toContain("dry run: request not sent")
      expect(yield* env.routes).toEqual([])
    }).pipe(Effect.scoped), 60_000)

  it.live("invalid configuration exits 2 naming the setting, before any request", () =>
    Effect.gen(function* () {
      const env = yield* environment(() => undefined, { PIPEOPS_RESYNC_INTERVAL: "often" })
      expect(yield* Effect.promise(() => env.agent.exited)).toBe(2)
      expect(env.agent.output()).toContain("invalid PIPEOPS_RESYNC_INTERVAL")
      expect(env.sim.requests()).toEqual([])
    }).pipe(Effect.scoped), 60_000)

  it.live("exits 0 promptly on SIGTERM", () =>
    Effect.gen(function* () {
      const env = yield* environment()
      yield* eventually(env.admin("/readyz"), (r) => r.status === 200, 20_000)
      const started = Date.now()
      expect(yield* Effect.promise(() => env.agent.stop("SIGTERM"))).toBe(0)
      expect(Date.now() - started).toBeLessThan(5_000)
    }).pipe(Effect.scoped), 60_000)

  it.live("--once exits 0 after a successful sync, 1 when the controller refuses it", () =>
    Effect.gen(function* () {
      const good = yield* environment((sim) => sim.store.upsert(ingresses, twoPaths("a", "a.example.com")), {}, ["--once"])
      expect(yield* Effect.promise(() => good.agent.exited)).toBe(0)
      expect(yield* good.routes).toEqual(["a.example.com/", "a.example.com/api"])
      const refused = yield* environment(() => undefined, { PIPEOPS_TOKEN: "wrong-token" }, ["--once"])
      expect(yield* Effect.promise(() => refused.agent.exited)).toBe(1)
    }).pipe(Effect.scoped), 60_000)
})
