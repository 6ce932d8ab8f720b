/**
 * The sync engine (DESIGN §3.3): once the cluster cache has synced, one authoritative sync; then
 * level-triggered passes that diff desired against registered routes and send only the
 * difference; an authoritative sync again on a routing-mode switch, when a path must be removed
 * from a still-claimed host, and every resync interval.
 */
import { Chunk, Clock, Context, Duration, Effect, Layer, LogLevel, Queue, Ref, Schedule, Stream } from "effect"
import { decideRouting, type ModeOverrides, type RoutingDecision } from "../domain/ClusterMode.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
import { planRoutes } from "../domain/RoutePlan.js"
import type { Route } from "../domain/Route.js"
import { ControllerClient } from "../controller/ControllerClient.js"
import { ClusterCache, type Change } from "./ClusterCache.js"
import { desired, makeExtractionCache, refresh, routesOfHosts, staleIngresses, type ExtractionCache } from "./DesiredState.js"
import { applyPlan, authoritativeSync, makeRegistry, registeredOfHosts, type Registry } from "./Calls.js"
import { initialModeState, logDecision, trackMode, type ModeState } from "./ClusterDetector.js"
import { initialSyncStatus, type SyncStatus } from "./SyncStatus.js"

export interface RouteSyncSettings {
  readonly clusterUuid: string
  readonly selection: IngressSelection
  readonly overrides: ModeOverrides
  /** Authoritative sync period; each wait is jittered. */
  readonly resyncInterval: Duration.Duration
  /** How long a switch away from direct waits. */
  readonly gracePeriod: Duration.Duration
  /** Hostnames worked on in parallel. */
  readonly concurrency: number
  /** A removed path of a still-claimed host is cleared by a sync within this delay. */
  readonly orphanSyncDelay: Duration.Duration
  /** First delay before retrying failed calls; doubles up to `retryCap`. */
  readonly retryBase: Duration.Duration
  readonly retryCap: Duration.Duration
  /** Pause after the controller refused the token. */
  readonly authRetry: Duration.Duration
}

export const defaultRouteSyncSettings: Omit<RouteSyncSettings, "clusterUuid" | "selection" | "overrides"> = {
  resyncInterval: Duration.minutes(5),
  gracePeriod: Duration.seconds(60),
  concurrency: 8,
  orphanSyncDelay: Duration.seconds(30),
  retryBase: Duration.seconds(1),
  retryCap: Duration.seconds(60),
  authRetry: Duration.seconds(30)
}

/** The sync engine, running in its layer's scope. */
export class RouteSync extends Context.Tag("pipeops-agent/gateway/RouteSync")<RouteSync, {
  readonly status: Effect.Effect<SyncStatus>
}>() {
  static readonly layer = (settings: RouteSyncSettings): Layer.Layer<RouteSync, never, ClusterCache | ControllerClient> =>
    Layer.scoped(RouteSync, make(settings))
}

/** What wakes the engine. */
type Trigger =
  | { readonly _tag: "Change"; readonly change: Change }
  | { readonly _tag: "Resync" }
  | { readonly _tag: "Wake" }

const make = (settings: RouteSyncSettings) => Effect.gen(function* () {
  const cache = yield* ClusterCache
  const client = yield* ControllerClient
  const triggers = yield* Queue.unbounded<Trigger>()
  const status = yield* Ref.make(initialSyncStatus)
  const extraction: ExtractionCache = makeExtractionCache()
  const registry: Registry = makeRegistry()
  // Hostnames whose calls failed: planned again in the next pass.
  const retryHosts = new Set<string>()
  let mode: ModeState = initialModeState
  let orphanSyncScheduled = false
  let failures = 0
  let pausedUntil = 0
  let wakeScheduledFor: number | undefined
  const offerLater = (delay: Duration.Duration, trigger: Trigger) =>
    Effect.forkScoped(Effect.sleep(delay).pipe(Effect.zipRight(Queue.offer(triggers, trigger))))

  /** Re-evaluates the routing decision when `batch` calls for it; `true` when a new one took effect. */
  const decide = (batch: ReadonlyArray<Trigger>) => Effect.gen(function* () {
    if (!redecides(batch)) return false
    const snapshot = yield* cache.snapshot
    const computed = decideRouting([...snapshot.services.values()], settings.overrides)
    if (computed._tag === "Left") {
      yield* Effect.logError("no routing decision").pipe(Effect.annotateLogs({ error: computed.left.message }))
      return false
    }
    const step = trackMode(mode, computed.right, yield* Clock.currentTimeMillis, Duration.toMillis(settings.gracePeriod))
    mode = step.state
    if (step.wakeAt !== undefined && step.wakeAt !== wakeScheduledFor) {
      wakeScheduledFor = step.wakeAt
      yield* offerLater(Duration.millis(step.wakeAt - (yield* Clock.currentTimeMillis)), { _tag: "Wake" })
    }
    if (step.changed && mode.effective !== undefined) yield* logDecision(mode.effective)
    yield* Ref.update(status, (s) => ({ ...s, decision: mode.effective }))
    return step.changed
  })

  /** After failed calls: retry soon (doubling), or slowly after an authentication failure. */
  const scheduleRetry = (authFailed: boolean) => Effect.gen(function* () {
    failures += 1
    const delay = authFailed
      ? settings.authRetry
      : Duration.min(Duration.times(settings.retryBase, 2 ** Math.min(failures - 1, 16)), settings.retryCap)
    if (authFailed) pausedUntil = (yield* Clock.currentTimeMillis) + Duration.toMillis(delay)
    yield* offerLater(delay, { _tag: "Wake" })
  })

  const sync = (decision: RoutingDecision) => Effect.gen(function* () {
    const result = yield* authoritativeSync(client, status, registry, desired(extraction), { clusterUuid: settings.clusterUuid, decision })
    if (result === "ok") failures = 0
    else yield* scheduleRetry(result === "auth")
    return result === "ok"
  })

  const pass = (batch: ReadonlyArray<Trigger>) => Effect.gen(function* () {
    const changes = batch.flatMap((t) => (t._tag === "Change" ? [t.change] : []))
    // Built only at debug level: annotating a log line that is then dropped cost 0.2 ms per pass.
    yield* Effect.whenLogLevel(Effect.logDebug("pass").pipe(Effect.annotateLogs({ triggers: batch.length, changes: changes.length })), LogLevel.Debug)
    const affected = new Set(refresh(extraction, yield* cache.snapshot, settings.selection, staleIngresses(changes)))
    const modeChanged = yield* decide(batch)
    const decision = mode.effective
    const now = yield* Clock.currentTimeMillis
    yield* Ref.update(status, (s) => ({ ...s, lastPassAt: now }))
    if (decision === undefined || now < pausedUntil) {
      // Nothing is sent now: what changed is planned once sending resumes.
      for (const hostname of affected) retryHosts.add(hostname)
      return
    }
    const started = (yield* Ref.get(status)).started
    if (!started || modeChanged || batch.some((t) => t._tag === "Resync")) {
      orphanSyncScheduled = false
      return yield* sync(decision)
    }
    for (const hostname of retryHosts) affected.add(hostname)
    retryHosts.clear()
    const plan = planRoutes(routesOfHosts(extraction, affected).filter((r) => !isRefused(registry, r)), registeredOfHosts(registry, affected))
    if (plan.orphaned.length > 0 && !orphanSyncScheduled) {
      orphanSyncScheduled = true
      yield* offerLater(settings.orphanSyncDelay, { _tag: "Resync" })
    }
    const { outcome, failedHosts } = yield* applyPlan(client, status, registry, plan, { clusterUuid: settings.clusterUuid, decision }, settings.concurrency)
    for (const hostname of failedHosts) retryHosts.add(hostname)
    if (outcome === "ok") failures = 0
    else yield* scheduleRetry(outcome === "auth")
  })

  const run = Effect.gen(function* () {
    yield* cache.synced
    yield* Effect.logInfo("caches synced")
    yield* Effect.forkScoped(Stream.runForEachChunk(cache.changes, (changes) =>
      Queue.offerAll(triggers, Chunk.map(changes, (change): Trigger => ({ _tag: "Change", change })))))
    yield* Effect.forkScoped(Queue.offer(triggers, { _tag: "Resync" }).pipe(
      Effect.delay(settings.resyncInterval), Effect.repeat(Schedule.spaced(settings.resyncInterval).pipe(Schedule.jittered))))
    refresh(extraction, yield* cache.snapshot, settings.selection, "all")
    yield* pass([{ _tag: "Wake" }])
    for (;;) {
      const first = yield* Queue.take(triggers)
      const rest = yield* Queue.takeAll(triggers)
      yield* pass([first, ...rest])
    }
  })

  // The engine never ends by itself: if it does (a defect), say so and fail liveness so that
  // Kubernetes restarts the agent. Interruption (shutdown) is not a failure.
  yield* Effect.forkScoped(run.pipe(
    Effect.catchAllCause((cause) => Effect.logError("sync engine stopped", cause).pipe(
      Effect.zipRight(Ref.update(status, (s) => ({ ...s, engineStopped: true }))))),
    Effect.annotateLogs({ service: "RouteSync" })))
  return RouteSync.of({ status: Ref.get(status) })
})

/** The decision reads every Service: it is re-made when one changed or time passed, not per Ingress. */
const redecides = (batch: ReadonlyArray<Trigger>): boolean => batch.some((t) => t._tag !== "Change" || t.change.kind === "service")

/** Whether the controller gave the route's hostname to another cluster (not retried until a resync). */
const isRefused = (registry: Registry, route: Route): boolean => registry.refusedHosts.has(route.hostname)
