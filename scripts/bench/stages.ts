/**
 * The agent's pipeline measured stage by stage in this process, over the API-server simulator:
 * the watch alone, then the reflector on it, the cluster cache, the sync engine with a controller
 * that answers in memory, and the engine with real HTTP calls to a bare loopback server. Each run
 * reports the CPU this process used per new Ingress (the simulator's share included, the same in
 * every run), so what a stage adds is its difference to the one before. `queued`: every event
 * written at once, so stages work in chunks; `paced`: one event every 2 ms, one at a time.
 */
import { KubeConfig } from "@kubernetes/client-node"
import { Deferred, Duration, Effect, Layer, Logger, LogLevel, Redacted, type Scope, Stream } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { ControllerClient } from "../../src/controller/ControllerClient.js"
import { defaultRetryPolicy } from "../../src/controller/ControllerRetry.js"
import { ControllerTransport } from "../../src/controller/ControllerTransport.js"
import { Token } from "../../src/controller/Token.js"
import { selectAll } from "../../src/domain/IngressSelection.js"
import { ClusterCache } from "../../src/gateway/ClusterCache.js"
import { ClusterDetector } from "../../src/gateway/ClusterDetector.js"
import { RouteWriter } from "../../src/gateway/RouteWriter.js"
import { defaultRouteSyncSettings, RouteSync } from "../../src/gateway/RouteSync.js"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { defaultReflectorOptions, makeReflector } from "../../src/kubernetes/Reflector.js"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { Metrics } from "../../src/observability/Metrics.js"
import { Probes } from "../../src/observability/Probes.js"
import { Tunnel } from "../../src/tunnel/Tunnel.js"
import { Announced } from "../../src/gateway/Announced.js"
import type { Simulator } from "../../test/support/ApiServerSimulator.js"
import { startSimulator, twoRoutes } from "./harness.js"

/** Starts a stage; `feed` writes the events; completes once the stage has seen all `events`. */
type Stage = (sim: Simulator, feed: Effect.Effect<void>, events: number) => Effect.Effect<void, unknown, KubernetesApi | Metrics | Probes | Scope.Scope>

const drain = <A, E>(stream: Stream.Stream<A, E>, count: number) => Stream.runDrain(Stream.take(stream, count))

const engineSettings = { ...defaultRouteSyncSettings, selection: selectAll, resyncInterval: Duration.hours(1) }

/** The engine over `client` until it has sent one register per route (two per Ingress). */
const engineWith = (client: (registered: () => void) => Layer.Layer<ControllerClient, unknown, Scope.Scope>): Stage => (_sim, feed, events) =>
  Effect.gen(function* () {
    const done = yield* Deferred.make<void>()
    let registers = 0
    const registered = () => {
      registers += 1
      if (registers === 2 * events) Deferred.unsafeDone(done, Effect.void)
    }
    const context = yield* Layer.build(RouteSync.layer(engineSettings).pipe(
      Layer.provideMerge(Layer.merge(Tunnel.off, Announced.layer)),
      Layer.provideMerge(ClusterDetector.layer({ overrides: {}, gracePeriod: Duration.seconds(60) })),
      Layer.provideMerge(ClusterCache.layer(defaultReflectorOptions)),
      Layer.provideMerge(RouteWriter.layer("stages").pipe(Layer.provide(client(registered))))))
    yield* Effect.flatMap(Effect.provide(RouteSync, context), (engine) => engine.start)
    yield* Effect.sleep(Duration.millis(200))
    yield* feed
    yield* Deferred.await(done)
  })

const inMemory = (registered: () => void) => Layer.succeed(ControllerClient, ControllerClient.of({
  registerRoute: () => Effect.sync(registered),
  syncIngresses: () => Effect.succeed({ conflicts: [] }),
  unregisterRoute: () => Effect.void,
  heartbeat: () => Effect.void,
  healthCheck: Effect.void
}))

/** The real client against a server that answers 200 at once, counting registers. */
const overHttp = (registered: () => void) => Layer.unwrapScoped(Effect.gen(function* () {
  const server = createServer((request, response) => {
    request.resume()
    request.once("end", () => {
      if (request.url?.endsWith("/register") === true) registered()
      response.writeHead(200, { "content-type": "application/json" })
      response.end("{}")
    })
  })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () => Effect.sync(() => server.close()))
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  return ControllerClient.layer({ apiUrl: url, timeout: Duration.seconds(30), retry: defaultRetryPolicy, agentId: "stages" }).pipe(
    Layer.provide(Layer.merge(ControllerTransport.layer, Token.fromValue(Redacted.make("stages")))))
}))

const stages: Record<string, Stage> = {
  watch: (sim, feed, events) => Effect.gen(function* () {
    const api = yield* KubernetesApi
    const stream = yield* api.watch(ingresses, { resourceVersion: sim.store.revision(), timeoutSeconds: 600, allowWatchBookmarks: true })
    yield* Effect.forkScoped(Effect.delay(feed, Duration.millis(20)))
    yield* drain(stream, events)
  }),
  reflector: (_sim, feed, events) => Effect.gen(function* () {
    const reflector = yield* makeReflector(ingresses, defaultReflectorOptions)
    yield* reflector.synced
    yield* feed
    yield* drain(reflector.events, events + 1)
  }),
  cache: (_sim, feed, events) => Effect.gen(function* () {
    const cache = yield* ClusterCache
    yield* cache.synced
    const changes = yield* cache.subscribe
    yield* feed
    yield* drain(changes, events)
  }).pipe(Effect.provide(ClusterCache.layer(defaultReflectorOptions))),
  engine: engineWith(inMemory),
  engine_and_http: engineWith(overHttp)
}

/** Writes `events` new Ingresses: all at once, or one every `paceMillis`. */
const feeder = (sim: Simulator, events: number, paceMillis: number, tag: string): Effect.Effect<void> => Effect.sync(() => {
  const write = (i: number) => sim.store.upsert(ingresses, twoRoutes(`${tag}-${i}`, `${tag}-${i}.example.com`))
  if (paceMillis === 0) {
    for (let i = 0; i < events; i++) write(i)
    return
  }
  const next = (i: number) => {
    if (i === events) return
    write(i)
    setTimeout(() => next(i + 1), paceMillis)
  }
  next(0)
})

/** CPU milliseconds per event of one stage run on a fresh simulator. */
const run = async (stage: Stage, events: number, paceMillis: number) => {
  const sim = await startSimulator({ token: "stages" })
  const config = new KubeConfig()
  config.loadFromString(sim.kubeconfig())
  const before = process.cpuUsage()
  // Quiet: the engine's log lines would land in the middle of the bench's JSON on stdout.
  await Effect.runPromise(Effect.scoped(stage(sim, feeder(sim, events, paceMillis, "s"), events)).pipe(
    Effect.provide(Layer.mergeAll(KubernetesApi.fromKubeConfig(config), Metrics.layer({ processMetrics: false }), Probes.layer)), Effect.orDie, Logger.withMinimumLogLevel(LogLevel.None)))
  const used = process.cpuUsage(before)
  await sim.close()
  return (used.user + used.system) / 1000 / events
}

export const pipelineStages = async (events: number) => {
  const measured: Record<string, { readonly queued: number; readonly paced: number }> = {}
  for (const [name, stage] of Object.entries(stages)) {
    measured[name] = { queued: await run(stage, events, 0), paced: await run(stage, events, 2) }
  }
  return { events, pace_ms: 2, cpu_ms_per_event: measured }
}
