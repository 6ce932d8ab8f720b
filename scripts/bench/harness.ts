/**
 * Benchmark harness: the API-server simulator and the reference controller in this process (the
 * controller records when it answered each request), and the built agent as a child process.
 */
import { HttpRouter, HttpServer, HttpServerRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer as createHttpServer } from "node:http"
import { createServer, type AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { makeControllerState, router } from "../../src/reference-controller/Server.js"
import { startSimulator, type Simulator } from "../../test/support/ApiServerSimulator.js"
import { backend, ingress, path, rule } from "../../test/support/Builders.js"
import { startCli, type RunningCli } from "../../test/support/Cli.js"
import { clusterUuid, token } from "./identity.js"

export { clusterUuid, token }

/** When the controller answered: per register hostname, and every sync with its route count. */
export interface Acks {
  readonly registers: Map<string, number>
  readonly syncs: Array<{ readonly at: number; readonly routes: number }>
}

export interface Controller {
  readonly url: string
  readonly acks: Acks
  readonly close: () => Promise<void>
}

const hostOf = (body: string): string | undefined => /"hostname":"([^"]+)"/.exec(body)?.[1]
const routeCount = (body: string): number => (body.match(/"path_type"/g) ?? []).length

/** The reference controller's router, recording the time of each answer. */
export const startController = async (): Promise<Controller> => {
  const acks: Acks = { registers: new Map(), syncs: [] }
  const ready = Effect.runSync(Deferred.make<number>())
  const program = Effect.gen(function* () {
    const state = yield* makeControllerState
    const app = Effect.tap(yield* HttpRouter.toHttpApp(router(state, new Map([[token, clusterUuid]]))), () => Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = request.method === "POST" ? yield* Effect.orElseSucceed(request.text, () => "") : ""
      const now = Date.now()
      if (request.url.endsWith("/register")) acks.registers.set(hostOf(body) ?? "", now)
      if (request.url.endsWith("/sync")) acks.syncs.push({ at: now, routes: routeCount(body) })
    }))
    const server = NodeHttpServer.layer(() => createHttpServer(), { host: "127.0.0.1", port: 0 })
    const announce = Layer.effectDiscard(HttpServer.addressWith((a) => Deferred.succeed(ready, a._tag === "TcpAddress" ? a.port : 0)))
    return yield* Layer.launch(Layer.merge(HttpServer.serve(app), announce).pipe(Layer.provide(server)))
  })
  const fiber = Effect.runFork(program)
  const port = await Effect.runPromise(Deferred.await(ready))
  return { url: `http://127.0.0.1:${port}`, acks, close: () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined) }
}

/** An Ingress with two routes on its own host. */
export const twoRoutes = (name: string, host: string, labels: Record<string, string> = {}) =>
  ingress({ name, labels, rules: [rule(host, path("/", backend("web", 80)), path("/api", backend("api", 8080)))] })

export const seed = (sim: Simulator, count: number, prefix = "app") => {
  for (let i = 0; i < count; i++) sim.store.upsert(ingresses, twoRoutes(`${prefix}-${i}`, `${prefix}-${i}.example.com`))
}

export const freePort = () => new Promise<number>((resolve) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resolve(port))
  })
})

export interface Agent {
  readonly cli: RunningCli
  readonly startedAt: number
  readonly adminPort: number
  readonly pid: () => number | undefined
}

/**
 * Starts the built agent against `sim` and `controller`, with extra node flags if given; `plain`:
 * without the images' flags; `env`: more environment (e.g. where compiled code is kept).
 */
export const startAgent = async (
  sim: Simulator, controller: Controller, nodeArgs: ReadonlyArray<string> = [], plain = false, env: Record<string, string> = {}
): Promise<Agent> => {
  const dir = mkdtempSync(join(tmpdir(), "bench-"))
  writeFileSync(join(dir, "kubeconfig"), sim.kubeconfig())
  const adminPort = await freePort()
  const startedAt = Date.now()
  const cli = startCli(["run"], {
    KUBECONFIG: join(dir, "kubeconfig"), PIPEOPS_API_URL: controller.url, PIPEOPS_TOKEN: token,
    PIPEOPS_CLUSTER_UUID: clusterUuid, PIPEOPS_ADMIN_PORT: String(adminPort), LOG_LEVEL: process.env["AGENT_LOG_LEVEL"] ?? "info",
    ...(nodeArgs.length === 0 ? {} : { AGENT_NODE_ARGS: [process.env["AGENT_NODE_ARGS"] ?? "", ...nodeArgs].join(" ") }),
    ...(plain ? { AGENT_IMAGE_FLAGS: "off" } : {}), ...env
  })
  return { cli, startedAt, adminPort, pid: () => cli.pid }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check` holds, polling every 5 ms; false after `timeoutMs`. */
export const until = async (check: () => boolean, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(5)
  }
  return true
}

/** CPU seconds (user + system) a process used so far, from /proc. */
export const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

interface StatusDocument {
  readonly process: { readonly rss_bytes: number; readonly heap_used_bytes: number }
  readonly watch: ReadonlyArray<{ readonly resource: string; readonly resource_version: string | null }>
}

const agentStatus = async (agent: Agent): Promise<StatusDocument> =>
  (await (await fetch(`http://127.0.0.1:${agent.adminPort}/status`)).json()) as StatusDocument

/** The agent's /status `process` section. */
export const agentMemory = async (agent: Agent) => {
  const status = await agentStatus(agent)
  return { rss_mb: status.process.rss_bytes / 1048576, heap_mb: status.process.heap_used_bytes / 1048576 }
}

/** Node flags that let `collectGarbage` make the agent collect all its garbage. */
export const heapSnapshotFlags = (dir: string) => ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${dir}`]

/**
 * Makes an agent started with `heapSnapshotFlags(dir)` run a full garbage collection: V8 collects
 * before it writes a heap snapshot. Waits for the snapshot to be complete, then deletes it.
 */
export const collectGarbage = async (agent: Agent, dir: string) => {
  const pid = agent.pid()
  if (pid === undefined) return
  process.kill(pid, "SIGUSR2")
  const snapshot = () => readdirSync(dir).find((f) => f.endsWith(".heapsnapshot"))
  let lastSize = -1
  for (;;) {
    await sleep(500)
    const file = snapshot()
    if (file === undefined) continue
    const size = statSync(join(dir, file)).size
    if (size > 0 && size === lastSize) return rmSync(join(dir, file))
    lastSize = size
  }
}

/** Waits until the agent's Ingress watch has reached `resourceVersion`; false after `timeoutMs`. */
export const caughtUp = async (agent: Agent, resourceVersion: string, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const status = await agentStatus(agent)
    // The simulator's resource versions are one counter: the watch may be past it (a bookmark).
    if (Number(status.watch.find((w) => w.resource === "ingresses")?.resource_version ?? 0) >= Number(resourceVersion)) return true
    await sleep(100)
  }
  return false
}

/** Percentiles of a list of numbers. */
export const percentiles = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
  return { p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? NaN }
}

export { startSimulator }
