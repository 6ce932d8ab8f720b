/**
 * Makes the sync engine's calls against the controller: builds each body from the call, sends it,
 * logs what it did, counts it, and answers with the input the engine takes next. A hostname's
 * calls run in order and stop at the first failure.
 */
import { Clock, Context, Effect, Either, Layer } from "effect"
import { ControllerClient } from "../controller/ControllerClient.js"
import { isAuthFailure, type ControllerError } from "../controller/ControllerError.js"
import { registerRequest, syncRequest, unregisterRequest, type ClusterIdentity } from "../controller/Requests.js"
import type { Route } from "../domain/Route.js"
import type { CallFailure, EngineCall, EngineInput } from "../domain/SyncEngine.js"
import { Metrics } from "../observability/Metrics.js"

/** Upper bounds (seconds) of the controller request-duration histogram. */
export const durationBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

type Operation = "register" | "unregister" | "sync"

export class RouteWriter extends Context.Tag("pipeops-agent/gateway/RouteWriter")<RouteWriter, {
  /** Makes one call (retries included, as the client does them); never fails: a failure is in the answer. */
  readonly run: (call: EngineCall) => Effect.Effect<EngineInput>
}>() {
  /** Writes for the cluster `clusterUuid`. */
  static readonly layer = (clusterUuid: string): Layer.Layer<RouteWriter, never, ControllerClient | Metrics> =>
    Layer.effect(RouteWriter, make(clusterUuid))
}

const failureOf = (error: ControllerError): CallFailure => ({ message: error.message, auth: isAuthFailure(error) })

const make = (clusterUuid: string) => Effect.gen(function* () {
  const client = yield* ControllerClient
  const metrics = yield* Metrics
  const counters = {
    register: yield* metrics.counter({ name: "gateway_route_registrations_total", help: "Register calls by outcome.", labels: ["status"] }),
    unregister: yield* metrics.counter({ name: "gateway_route_unregistrations_total", help: "Unregister calls by outcome.", labels: ["status"] }),
    sync: yield* metrics.counter({ name: "gateway_route_syncs_total", help: "Authoritative sync calls by outcome.", labels: ["status"] })
  }
  const durations = yield* metrics.histogram({
    name: "gateway_controller_request_duration_seconds", help: "Controller call durations, retries included.", labels: ["operation"], buckets: durationBuckets
  })

  /** Runs a call, counting its outcome and how long it took (retries included). */
  const counted = <A>(operation: Operation, call: Effect.Effect<A, ControllerError>) => Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const result = yield* Effect.either(call)
    yield* durations.observe({ operation }, ((yield* Clock.currentTimeMillis) - started) / 1000)
    yield* counters[operation].inc({ status: Either.isRight(result) ? "success" : "failure" })
    return result
  })

  const sync = (call: Extract<EngineCall, { _tag: "Sync" }>, cluster: ClusterIdentity) => Effect.gen(function* () {
    const ingresses = new Set(call.routes.map((r) => r.ingress)).size
    yield* Effect.logInfo("syncing existing ingresses to controller").pipe(
      Effect.annotateLogs({ ingresses, routes: call.routes.length, routing_mode: call.decision.routingMode }))
    const result = yield* counted("sync", client.syncIngresses(syncRequest(call.routes, cluster)))
    if (Either.isLeft(result)) return { _tag: "SyncDone", ticket: call.ticket, result: { _tag: "Failed", failure: failureOf(result.left) } } as const
    const conflicts = result.right.conflicts
    if (conflicts.length > 0) yield* Effect.logWarning("hostnames owned by another cluster").pipe(Effect.annotateLogs({ conflicts }))
    yield* Effect.logInfo("routes synced").pipe(Effect.annotateLogs({ ingresses, routes: call.routes.length, conflicts: conflicts.length }))
    return { _tag: "SyncDone", ticket: call.ticket, result: { _tag: "Ok", routes: call.routes, conflicts } } as const
  })

  const host = (call: Extract<EngineCall, { _tag: "Host" }>, cluster: ClusterIdentity) => Effect.gen(function* () {
    const answer = (unregistered: boolean, registered: ReadonlyArray<Route>, extra: { conflict?: boolean; failure?: CallFailure } = {}): EngineInput =>
      ({ _tag: "HostDone", ticket: call.ticket, hostname: call.hostname, unregistered, registered, conflict: extra.conflict ?? false, failure: extra.failure })
    if (call.unregister) {
      const result = yield* counted("unregister", client.unregisterRoute(unregisterRequest(call.hostname, cluster)))
      if (Either.isLeft(result)) return answer(false, [], { failure: failureOf(result.left) })
      yield* Effect.logInfo("route unregistered").pipe(Effect.annotateLogs({ hostname: call.hostname }))
    }
    const registered: Array<Route> = []
    for (const route of call.routes) {
      const result = yield* counted("register", client.registerRoute(registerRequest(route, cluster)))
      if (Either.isLeft(result) && result.left._tag === "RouteConflict") {
        yield* Effect.logWarning("hostname owned by another cluster").pipe(Effect.annotateLogs({ hostname: route.hostname }))
        return answer(call.unregister, registered, { conflict: true })
      }
      if (Either.isLeft(result)) return answer(call.unregister, registered, { failure: failureOf(result.left) })
      registered.push(route)
      yield* Effect.logInfo("route registered").pipe(Effect.annotateLogs({ hostname: route.hostname, path: route.path, ingress: route.ingress }))
    }
    return answer(call.unregister, registered)
  })

  return RouteWriter.of({
    run: (call) => {
      const cluster = { clusterUuid, decision: call.decision }
      return call._tag === "Sync" ? sync(call, cluster) : host(call, cluster)
    }
  })
})
