/**
 * A ControllerClient that records every call and answers as scripted: a failure chosen per call
 * by a function the test can change at any time, and an optional latency.
 */
import { Clock, Duration, Effect, Layer, Ref, Schema } from "effect"
import { ControllerClient } from "../../src/controller/ControllerClient.js"
import type { ControllerError, Operation } from "../../src/controller/ControllerError.js"
import { HeartbeatRequest, RegisterRouteRequest, SyncIngressesRequest, UnregisterRouteRequest } from "../../src/controller/Wire.js"

/** One recorded call: when (ms), what, and the wire body (heartbeats: `routing_mode gateway_routes`). */
export interface Call {
  readonly at: number
  /** Which agent made it (`layerAs`), `agent` otherwise. */
  readonly agent: string
  readonly operation: Operation
  /** `hostname path` for register, `hostname` for unregister, route count for sync. */
  readonly summary: string
  readonly body: unknown
}

/** Decides a call's failure (`undefined`: it succeeds). */
export type Script = (operation: Operation, summary: string) => ControllerError | undefined

export const makeRecordingController = Effect.gen(function* () {
  const calls = yield* Ref.make<ReadonlyArray<Call>>([])
  const script = yield* Ref.make<Script>(() => undefined)
  const latency = yield* Ref.make<(operation: Operation, summary: string) => Duration.Duration>(() => Duration.zero)
  const conflicts = yield* Ref.make<ReadonlyArray<string>>([])

  const record = (agent: string, operation: Operation, summary: string, body: unknown) => Effect.gen(function* () {
    yield* Effect.sleep((yield* Ref.get(latency))(operation, summary))
    const at = yield* Clock.currentTimeMillis
    yield* Ref.update(calls, (all) => [...all, { at, agent, operation, summary, body }])
    const error = (yield* Ref.get(script))(operation, summary)
    if (error !== undefined) return yield* Effect.fail(error)
  })

  const clientAs = (agent: string) => ControllerClient.of({
    registerRoute: (request) =>
      record(agent, "register", `${request.hostname} ${request.path}`, Schema.encodeSync(RegisterRouteRequest)(request)),
    unregisterRoute: (request) => record(agent, "unregister", request.hostname, Schema.encodeSync(UnregisterRouteRequest)(request)),
    syncIngresses: (request) => {
      const routes = request.ingresses.flatMap((i) => i.rules.flatMap((r) => r.paths.map((p) => `${r.host} ${p.path}`)))
      return record(agent, "sync", routes.sort().join(","), Schema.encodeSync(SyncIngressesRequest)(request)).pipe(
        Effect.zipRight(Effect.map(Ref.get(conflicts), (c) => ({ conflicts: c }))))
    },
    heartbeat: (request) =>
      record(agent, "heartbeat", `${request.metadata.routingMode} ${request.metadata.gatewayRoutes}`, Schema.encodeSync(HeartbeatRequest)(request)),
    healthCheck: Effect.void
  })

  return {
    layer: Layer.succeed(ControllerClient, clientAs("agent")),
    /** The client of one agent among several sharing this controller. */
    layerAs: (agent: string) => Layer.succeed(ControllerClient, clientAs(agent)),
    calls: Ref.get(calls),
    /** Route calls (heartbeats left out) as `operation summary` lines. */
    lines: Effect.map(Ref.get(calls), (all) => all.filter((c) => c.operation !== "heartbeat").map((c) => `${c.operation} ${c.summary}`)),
    /** Heartbeats, as `at routing_mode gateway_routes` lines. */
    heartbeats: Effect.map(Ref.get(calls), (all) => all.filter((c) => c.operation === "heartbeat").map((c) => `${c.at} ${c.summary}`)),
    clear: Ref.set(calls, []),
    setScript: (next: Script) => Ref.set(script, next),
    setLatency: (next: Duration.Duration) => Ref.set(latency, () => next),
    /** Latency chosen per call, e.g. one hostname that hangs. */
    setLatencyOf: (next: (operation: Operation, summary: string) => Duration.Duration) => Ref.set(latency, next),
    setConflicts: (next: ReadonlyArray<string>) => Ref.set(conflicts, next)
  }
})
