/**
 * The heartbeat: the cluster's state reported to the controller every interval (±10 %), the
 * first right after the engine's initial sync. It runs while this agent writes (`start`/`stop`,
 * like the engine), on its own fiber: a failing or slow heartbeat never delays a route call. A
 * failure is logged once per streak and retried at the next tick; the recovery is logged too.
 */
import { Cause, Clock, Context, Duration, Effect, FiberHandle, Layer, Option, Ref, Schedule } from "effect"
import { ControllerClient } from "../controller/ControllerClient.js"
import { HeartbeatRequest } from "../controller/Wire.js"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import { Metrics } from "../observability/Metrics.js"
import { Probes } from "../observability/Probes.js"
import { Tunnel } from "../tunnel/Tunnel.js"
import { version } from "../Version.js"
import { ClusterDetector } from "./ClusterDetector.js"
import { RouteSync } from "./RouteSync.js"

export interface HeartbeatSettings {
  readonly clusterUuid: string
  readonly agentId: string
  readonly interval: Duration.Duration
}

/** Every `interval`, each wait jittered by ±10 %. */
export const heartbeatEvery = (interval: Duration.Duration) => Schedule.spaced(interval).pipe(Schedule.jitteredWith({ min: 0.9, max: 1.1 }))

/** Reading the API server's version again after a failure: from 1 s, doubling, capped at 5 min. */
const versionRetry = Schedule.exponential(Duration.seconds(1)).pipe(Schedule.modifyDelay((_, d) => Duration.min(d, Duration.minutes(5))))

export class Heartbeat extends Context.Tag("pipeops-agent/gateway/Heartbeat")<Heartbeat, {
  /** Starts sending (unless already): the first heartbeat once the engine's initial sync succeeded. */
  readonly start: Effect.Effect<void>
  readonly stop: Effect.Effect<void>
}>() {
  static readonly layer = (settings: HeartbeatSettings): Layer.Layer<
    Heartbeat, never, ControllerClient | RouteSync | ClusterDetector | KubernetesApi | Tunnel | Metrics | Probes
  > => Layer.scoped(Heartbeat, make(settings))
}

/** How sending has gone: the current failure streak and the last success. */
interface Sending {
  readonly failures: number
  readonly lastError: string | undefined
  readonly lastSentAt: number | undefined
}

const make = (settings: HeartbeatSettings) => Effect.gen(function* () {
  const client = yield* ControllerClient
  const engine = yield* RouteSync
  const detector = yield* ClusterDetector
  const probes = yield* Probes
  const api = yield* KubernetesApi
  const tunnel = yield* Tunnel
  const record = yield* Ref.make<Sending>({ failures: 0, lastError: undefined, lastSentAt: undefined })
  const k8sVersion = yield* Ref.make("")
  const sent = yield* (yield* Metrics).counter({ name: "heartbeats_total", help: "Heartbeats sent, by outcome.", labels: ["status"] })

  // Read once, in the background: a heartbeat never waits for it (until then it reports "").
  yield* Effect.forkScoped(api.version.pipe(
    Effect.timeout(Duration.seconds(60)),
    Effect.tapError((error) => Effect.logDebug("cannot read the API server's version").pipe(Effect.annotateLogs({ error: String(error) }))),
    Effect.retry(versionRetry),
    Effect.flatMap((v) => Ref.set(k8sVersion, v))))

  const body = Effect.gen(function* () {
    const decision = Option.getOrUndefined(yield* detector.current)
    const engineStatus = Option.getOrUndefined(yield* engine.status)
    const direct = decision?.routingMode === "direct"
    const tunnelStatus = direct ? "not_used" : (yield* tunnel.connections) > 0 ? "connected" : "disconnected"
    return new HeartbeatRequest({
      clusterUuid: settings.clusterUuid, agentId: settings.agentId, agentVersion: version, k8sVersion: yield* Ref.get(k8sVersion),
      status: (yield* probes.readiness).length === 0 ? "healthy" : "degraded", tunnelStatus,
      metadata: {
        isPrivate: !direct, gatewayRoutes: engineStatus?.registeredRoutes ?? 0,
        routingMode: direct ? "direct" : "tunnel", publicEndpoint: direct ? decision.publicEndpoint : ""
      }
    })
  })

  const send = Effect.gen(function* () {
    const result = yield* Effect.either(Effect.flatMap(body, client.heartbeat))
    const now = yield* Clock.currentTimeMillis
    const before = yield* Ref.get(record)
    if (result._tag === "Left") {
      yield* sent.inc({ status: "failure" })
      if (before.failures === 0) {
        yield* Effect.logWarning("heartbeat failed; retried at the next one").pipe(
          Effect.annotateLogs({ error: result.left.message, interval: Duration.format(settings.interval) }))
      }
      return yield* Ref.set(record, { ...before, failures: before.failures + 1, lastError: result.left.message })
    }
    yield* sent.inc({ status: "success" })
    if (before.failures > 0) yield* Effect.logInfo("heartbeat recovered").pipe(Effect.annotateLogs({ failed: before.failures }))
    yield* Ref.set(record, { failures: 0, lastError: undefined, lastSentAt: now })
  })

  const handle = yield* FiberHandle.make<void>()
  const beating = engine.synced.pipe(
    Effect.zipRight(send),
    Effect.zipRight(Effect.schedule(send, heartbeatEvery(settings.interval))),
    Effect.asVoid,
    // Never ends by itself; if it does (a defect), say so instead of going quiet.
    Effect.catchAllCause((cause) => (Cause.isInterruptedOnly(cause) ? Effect.void : Effect.logError("heartbeat stopped", cause))),
    Effect.annotateLogs({ service: "Heartbeat" }))

  yield* probes.add({
    status: Effect.map(Ref.get(record), (r) => ({
      heartbeat: {
        interval: Duration.format(settings.interval), last_sent_at: r.lastSentAt === undefined ? null : new Date(r.lastSentAt).toISOString(),
        failures: r.failures, last_error: r.lastError ?? null
      }
    }))
  })
  return Heartbeat.of({ start: FiberHandle.run(handle, beating, { onlyIfMissing: true }).pipe(Effect.asVoid), stop: FiberHandle.clear(handle) })
})
