/**
 * Cluster detection over time: the routing decision computed from the Services and Gateways
 * each time one changes, applied with the grace period of `ModeTracking`, and published for whoever
 * follows it: the sync engine, the tunnel, the heartbeat. Owns its `/status` fields and the
 * routing-mode metric.
 */
import { Chunk, Context, Deferred, Duration, Effect, type Either, FiberHandle, Layer, Option, Queue, Ref, Stream, SubscriptionRef } from "effect"
import { decideRouting, type DirectWithoutEndpoint, type ModeOverrides, type RoutingDecision } from "../domain/ClusterMode.js"
import { initialModeState, sameDecision, trackMode, type ModeState } from "../domain/ModeTracking.js"
import { Metrics } from "../observability/Metrics.js"
import { Probes } from "../observability/Probes.js"
import { ClusterCache } from "./ClusterCache.js"

export interface DetectorSettings {
  readonly overrides: ModeOverrides
  /** How long a switch away from direct waits. */
  readonly gracePeriod: Duration.Duration
}

export class ClusterDetector extends Context.Tag("pipeops-agent/gateway/ClusterDetector")<ClusterDetector, {
  /** The decision in force; `None` until the Services are listed, or while none can be made. */
  readonly current: Effect.Effect<Option.Option<RoutingDecision>>
  /** The decision in force (when there is one), then each new one. */
  readonly decisions: Stream.Stream<RoutingDecision>
  /** The first evaluation, once the Services are listed: the decision, or why there is none. */
  readonly first: Effect.Effect<Either.Either<RoutingDecision, DirectWithoutEndpoint>>
}>() {
  static readonly layer = (settings: DetectorSettings): Layer.Layer<ClusterDetector, never, ClusterCache | Metrics | Probes> =>
    Layer.scoped(ClusterDetector, make(settings))
}

/** The decision's log line, in the words of the original agent. */
const logDecision = (decision: RoutingDecision) =>
  Effect.logInfo(decision.routingMode === "tunnel" ? "private cluster detected - using tunnel routing" : "using direct routing via LoadBalancer").pipe(
    Effect.annotateLogs({ routing_mode: decision.routingMode, public_endpoint: decision.publicEndpoint, is_private: decision.isPrivate }))

/** The `/status` fields of a decision; before the first one, the agent reports itself private. */
const statusFields = (decision: RoutingDecision | undefined) => ({
  is_private: decision?.isPrivate ?? true,
  routing_mode: decision?.routingMode ?? "tunnel",
  public_endpoint: decision?.publicEndpoint ?? ""
})

const make = (settings: DetectorSettings) => Effect.gen(function* () {
  const cache = yield* ClusterCache
  const metrics = yield* Metrics
  const mode = yield* SubscriptionRef.make<ModeState>(initialModeState)
  const problem = yield* Ref.make<Option.Option<string>>(Option.none())
  const first = yield* Deferred.make<Either.Either<RoutingDecision, DirectWithoutEndpoint>>()
  /** A Service changed or the grace period ended: evaluate again (one pending wake is enough). */
  const wakes = yield* Queue.sliding<void>(1)
  const timer = yield* FiberHandle.make()
  const graceMillis = Duration.toMillis(settings.gracePeriod)

  const evaluate = Effect.gen(function* () {
    const snapshot = yield* cache.snapshot
    const computed = decideRouting([...snapshot.services.values()], settings.overrides, [...snapshot.gateways.values()])
    yield* Deferred.succeed(first, computed)
    if (computed._tag === "Left") {
      const previous = yield* Ref.getAndSet(problem, Option.some(computed.left.message))
      if (Option.isNone(previous)) yield* Effect.logError("no routing decision").pipe(Effect.annotateLogs({ error: computed.left.message }))
      return
    }
    yield* Ref.set(problem, Option.none())
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const before = yield* SubscriptionRef.get(mode)
    const next = trackMode(before, computed.right, now, graceMillis)
    yield* SubscriptionRef.set(mode, next.state)
    if (next.changed) yield* logDecision(computed.right)
    if (next.wakeAt === undefined) return yield* FiberHandle.clear(timer)
    if (before.pendingSince === undefined) {
      yield* Effect.logInfo("load balancer address lost: switching to tunnel routing after the grace period").pipe(
        Effect.annotateLogs({ grace_period: Duration.format(settings.gracePeriod), switch_at: new Date(next.wakeAt).toISOString() }))
    }
    yield* FiberHandle.run(timer, Effect.sleep(Duration.millis(next.wakeAt - now)).pipe(Effect.zipRight(Queue.offer(wakes, undefined))))
  })

  // Ingress and HTTPRoute changes are most of the traffic and never change the decision: they are
  // dropped here, where a stream stage per change would cost more than the change itself.
  yield* Effect.forkScoped(Effect.gen(function* () {
    yield* cache.synced
    const changes = yield* cache.subscribe
    yield* evaluate
    yield* Effect.forkScoped(Stream.runForEachChunk(changes, (chunk) =>
      Chunk.some(chunk, (change) => change.kind === "service" || change.kind === "gateway") ? Queue.offer(wakes, undefined) : Effect.void))
    yield* Effect.forever(Effect.zipRight(Queue.take(wakes), evaluate))
  }).pipe(Effect.scoped, Effect.annotateLogs({ service: "ClusterDetector" })))

  const current = Effect.map(SubscriptionRef.get(mode), (m) => Option.fromNullable(m.effective))
  yield* (yield* Probes).add({
    status: Effect.map(SubscriptionRef.get(mode), (m) => statusFields(m.effective)),
    readiness: Effect.map(Ref.get(problem), Option.match({ onNone: () => [], onSome: (p) => [`no routing decision: ${p}`] }))
  })
  const routingMode = yield* metrics.gauge({ name: "gateway_routing_mode", help: "The routing mode in force (1) and the other (0).", labels: ["mode"] })
  yield* metrics.onScrape(Effect.flatMap(current, (decision) => Effect.forEach(["direct", "tunnel"] as const, (m) =>
    routingMode.set({ mode: m }, Option.exists(decision, (d) => d.routingMode === m) ? 1 : 0), { discard: true })))

  return ClusterDetector.of({
    current,
    decisions: mode.changes.pipe(
      Stream.filterMap((m) => Option.fromNullable(m.effective)),
      Stream.changesWith(sameDecision)),
    first: Deferred.await(first)
  })
})
