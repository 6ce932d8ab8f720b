/**
 * The sync engine's runner. It feeds the pure step of `domain/SyncEngine` with what
 * happens — the desired routes as the cluster changes, the routing decision, resyncs, timers and
 * the answers of calls — and makes the calls the step asks for through the `RouteWriter`. It runs
 * in terms: `start` begins one, which opens with an authoritative sync; `stop` ends it and
 * interrupts its calls, while the caches keep running. Owns its readiness, liveness, `/status`
 * part and route gauges.
 */
import { Cause, Chunk, Clock, Context, Duration, Effect, FiberHandle, FiberSet, Layer, LogLevel, Option, Queue, Ref, type Scope, Stream, SubscriptionRef } from "effect"
import { makeDesiredIndex, refresh, routesOfHosts, staleIngresses, type DesiredIndex } from "../domain/DesiredIndex.js"
import type { RoutingDecision } from "../domain/ClusterMode.js"
import { idleStatus, initialEngineState, statusOf, type EngineSettings, type EngineState, type EngineStatus } from "../domain/EngineState.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
import { step, type EngineCall, type EngineInput } from "../domain/SyncEngine.js"
import { Metrics } from "../observability/Metrics.js"
import { Tunnel } from "../tunnel/Tunnel.js"
import { Probes } from "../observability/Probes.js"
import { ClusterCache } from "./ClusterCache.js"
import { Announced } from "./Announced.js"
import { ClusterDetector } from "./ClusterDetector.js"
import { RouteWriter } from "./RouteWriter.js"
import { delaysOf, engineRetry, resyncEvery } from "./Schedules.js"

export interface RouteSyncSettings {
  readonly selection: IngressSelection
  /** Authoritative sync period; each wait is jittered. */
  readonly resyncInterval: Duration.Duration
  /** Hostnames with calls in flight at once. */
  readonly concurrency: number
  /** A removed path of a still-claimed host is cleared by a sync within this delay. */
  readonly orphanSyncDelay: Duration.Duration
  /** First delay before retrying a failed hostname or sync; doubles up to `retryCap`. */
  readonly retryBase: Duration.Duration
  readonly retryCap: Duration.Duration
  /** Pause of every call after the controller refused the token. */
  readonly authRetry: Duration.Duration
  /** A switch to tunnel is announced once a tunnel connection is up, or after this long. */
  readonly tunnelWait: Duration.Duration
}

export const defaultRouteSyncSettings: Omit<RouteSyncSettings, "selection"> = {
  resyncInterval: Duration.minutes(5),
  concurrency: 8,
  orphanSyncDelay: Duration.seconds(30),
  retryBase: Duration.seconds(1),
  retryCap: Duration.seconds(60),
  authRetry: Duration.seconds(30),
  tunnelWait: Duration.seconds(5)
}

/** Whether a term runs, and its state; `Stopped` when one ended with a defect. */
type Run =
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Running"; readonly state: EngineState }
  | { readonly _tag: "Stopped" }

/** The sync engine; a term runs between `start` and `stop`. */
export class RouteSync extends Context.Tag("pipeops-agent/gateway/RouteSync")<RouteSync, {
  /** The running term's status; `None` between terms. */
  readonly status: Effect.Effect<Option.Option<EngineStatus>>
  /** Starts a term unless one runs; it begins with an authoritative sync. */
  readonly start: Effect.Effect<void>
  /** Ends the running term, interrupting its calls (a lost lease: at once). */
  readonly stop: Effect.Effect<void>
  /**
   * Ends the running term once its calls in flight have finished, waiting at most `timeout`; no
   * new call starts meanwhile (a shutdown: what was sent is answered, not cut off).
   */
  readonly drain: (timeout: Duration.Duration) => Effect.Effect<void>
  /** Completes once a running term's first authoritative sync has succeeded. */
  readonly synced: Effect.Effect<void>
}>() {
  static readonly layer = (settings: RouteSyncSettings): Layer.Layer<RouteSync, never, ClusterCache | ClusterDetector | RouteWriter | Tunnel | Announced | Metrics | Probes> =>
    Layer.scoped(RouteSync, make(settings))
}

/** The desired routes of some hostnames, as the engine takes them. */
const desiredOf = (index: DesiredIndex, hostnames: Iterable<string>): EngineInput =>
  ({ _tag: "Desired", hosts: [...hostnames].map((hostname) => [hostname, routesOfHosts(index, [hostname])] as const) })

const engineSettings = (settings: RouteSyncSettings): Effect.Effect<EngineSettings> =>
  Effect.map(delaysOf(engineRetry(settings.retryBase, settings.retryCap), 16), (retryDelays) => ({
    concurrency: settings.concurrency, orphanSyncDelay: Duration.toMillis(settings.orphanSyncDelay),
    retryDelays, authRetry: Duration.toMillis(settings.authRetry)
  }))

/** What a term shares with whoever stops it: its calls in flight, and whether it is draining. */
interface TermControl {
  readonly calls: Ref.Ref<Option.Option<FiberSet.FiberSet>>
  readonly draining: Ref.Ref<boolean>
}

/**
 * One term: waits for the caches, feeds the step and makes its calls. Runs until interrupted;
 * with `once`, ends after its first authoritative sync and returns the state.
 */
const term = (settings: RouteSyncSettings, publish: (state: EngineState) => Effect.Effect<void>, once: boolean, control?: TermControl) =>
  Effect.gen(function* () {
    const cache = yield* ClusterCache
    const writer = yield* RouteWriter
    const initial = initialEngineState(yield* engineSettings(settings))
    yield* publish(initial)
    yield* cache.synced
    yield* Effect.logInfo("caches synced")
    const changes = yield* cache.subscribe
    const index = makeDesiredIndex()
    const inputs = yield* Queue.unbounded<EngineInput>()
    yield* Queue.offerAll(inputs, [desiredOf(index, refresh(index, yield* cache.snapshot, settings.selection, "all")), { _tag: "Start" }])
    yield* Effect.forkScoped(followDecisions(settings, (decision) => Queue.offer(inputs, { _tag: "Decision", decision })))
    yield* Effect.forkScoped(Stream.runForEachChunk(changes, (chunk) => Effect.flatMap(cache.snapshot, (snapshot) => {
      const touched = refresh(index, snapshot, settings.selection, staleIngresses(chunk))
      return touched.size === 0 ? Effect.void : Queue.offer(inputs, desiredOf(index, touched))
    })))
    if (!once) yield* Effect.forkScoped(Effect.schedule(Queue.offer(inputs, { _tag: "Resync" }), resyncEvery(settings.resyncInterval)))
    const calls = yield* FiberSet.make()
    if (control !== undefined) yield* Ref.set(control.calls, Option.some(calls))
    const timer = yield* FiberHandle.make()

    const draining = control === undefined ? Effect.succeed(false) : Ref.get(control.draining)
    /** Starts a call (none while draining); its answer comes back as an input. A sync first interrupts the hostname calls. */
    const dispatch = (call: EngineCall) => Effect.flatMap(draining, (stopping) => stopping ? Effect.void : Effect.zipRight(
      call._tag === "Sync" ? FiberSet.clear(calls) : Effect.void,
      FiberSet.run(calls, Effect.flatMap(writer.run(call), (answer) => Queue.offer(inputs, answer)))))

    /** Keeps one timer for the state's wake-up time. */
    const reschedule = (wakeAt: number | undefined, now: number) => wakeAt === undefined
      ? FiberHandle.clear(timer)
      : FiberHandle.run(timer, Effect.sleep(Duration.millis(wakeAt - now)).pipe(Effect.zipRight(Queue.offer(inputs, { _tag: "Tick" }))))

    const turn = ({ state }: { readonly state: EngineState }) => Effect.gen(function* () {
      const batch = yield* Queue.takeBetween(inputs, 1, Number.POSITIVE_INFINITY)
      const now = yield* Clock.currentTimeMillis
      const pending: Array<EngineCall> = []
      const next = Chunk.reduce(batch, state, (current, input) => {
        const result = step(current, input, now)
        pending.push(...result.calls)
        return result.state
      })
      // Built only at debug level: annotating a line that is then dropped costs more than the step.
      yield* Effect.whenLogLevel(Effect.logDebug("engine step").pipe(Effect.annotateLogs({ inputs: batch.length, calls: pending.length })), LogLevel.Debug)
      yield* publish(next)
      yield* Effect.forEach(pending, dispatch, { discard: true })
      if (next.wakeAt !== state.wakeAt) yield* reschedule(next.wakeAt, now)
      return { state: next, done: once && Chunk.some(batch, (input) => input._tag === "SyncDone") }
    })
    const last = yield* Effect.iterate({ state: initial, done: false }, { while: (s) => !s.done, body: turn })
    return last.state
  })

/**
 * The decisions the term announces. A switch from direct to tunnel waits for a tunnel
 * connection (at most `tunnelWait`), so the controller has somewhere to send the traffic.
 */
const followDecisions = (settings: RouteSyncSettings, announce: (decision: RoutingDecision) => Effect.Effect<unknown>) =>
  Effect.gen(function* () {
    const detector = yield* ClusterDetector
    const tunnel = yield* Tunnel
    let previous: RoutingDecision | undefined
    yield* Stream.runForEach(detector.decisions, (decision) => {
      const switching = previous?.routingMode === "direct" && decision.routingMode === "tunnel"
      previous = decision
      return Effect.zipRight(switching ? tunnel.awaitConnected(settings.tunnelWait) : Effect.void, announce(decision))
    })
  })

/** `run --once`: a term that ends after its first authoritative sync; `true` when that succeeded. */
export const syncOnce = (settings: RouteSyncSettings): Effect.Effect<boolean, never, ClusterCache | ClusterDetector | RouteWriter | Tunnel> =>
  Effect.scoped(Effect.map(term(settings, () => Effect.void, true), (state) => state.synced))

/** A term idle this long with work pending is stuck: liveness fails so Kubernetes restarts the agent. */
const stuckAfterMillis = 10 * 60_000

const iso = (millis: number | undefined) => (millis === undefined ? null : new Date(millis).toISOString())

const make = (settings: RouteSyncSettings) => Effect.gen(function* () {
  const run = yield* Ref.make<Run>({ _tag: "Idle" })
  // Whether the running term's first sync succeeded: changes rarely, and is what `synced` follows.
  // (The state itself goes in a plain Ref: a SubscriptionRef takes a semaphore on every turn.)
  const syncedNow = yield* SubscriptionRef.make(false)
  const handle = yield* FiberHandle.make<void>()
  const context = yield* Effect.context<ClusterCache | ClusterDetector | RouteWriter | Tunnel>()
  const announced = yield* Announced
  const status = Effect.map(Ref.get(run), (r) => (r._tag === "Running" ? Option.some(statusOf(r.state)) : Option.none()))

  const publish = (state: EngineState) => Effect.zipRight(
    Effect.flatMap(Ref.getAndSet(run, { _tag: "Running", state }), (before) =>
      // A sync the controller acknowledged, and no newer one wanted (a decision that came meanwhile): its mode is announced.
      state.lastSyncAt !== undefined && state.decision !== undefined && !state.sync.wanted &&
        (before._tag !== "Running" || before.state.lastSyncAt !== state.lastSyncAt)
        ? announced.set(state.decision.routingMode)
        : Effect.void),
    Effect.flatMap(SubscriptionRef.get(syncedNow), (was) => (was === state.synced ? Effect.void : SubscriptionRef.set(syncedNow, state.synced))))
  const ended = (cause: Cause.Cause<never>) => Effect.zipRight(SubscriptionRef.set(syncedNow, false), endedWith(cause))
  const endedWith = (cause: Cause.Cause<never>) => Cause.isInterruptedOnly(cause)
    ? Ref.set(run, { _tag: "Idle" })
    : Effect.logError("sync engine stopped", cause).pipe(Effect.zipRight(Ref.set(run, { _tag: "Stopped" })))
  const control: TermControl = { calls: yield* Ref.make(Option.none<FiberSet.FiberSet>()), draining: yield* Ref.make(false) }
  const start = Ref.set(control.draining, false).pipe(Effect.zipRight(FiberHandle.run(handle, term(settings, publish, false, control).pipe(
    Effect.scoped, Effect.asVoid, Effect.onExit((exit) => (exit._tag === "Failure" ? ended(exit.cause) : Effect.void)),
    Effect.annotateLogs({ service: "RouteSync" }), Effect.provide(context)), { onlyIfMissing: true })), Effect.asVoid)
  const drain = (timeout: Duration.Duration) => Effect.gen(function* () {
    yield* Ref.set(control.draining, true)
    const calls = yield* Ref.get(control.calls)
    if (Option.isSome(calls)) yield* FiberSet.awaitEmpty(calls.value).pipe(Effect.timeoutOption(timeout))
    yield* FiberHandle.clear(handle)
  })

  yield* observe(run, status)
  const synced = Stream.runDrain(Stream.takeUntil(syncedNow.changes, (done) => done))
  return RouteSync.of({ status, start, stop: FiberHandle.clear(handle), drain, synced })
})

/** The engine's probe and gauges. */
const observe = (run: Ref.Ref<Run>, status: Effect.Effect<Option.Option<EngineStatus>>): Effect.Effect<void, never, Metrics | Probes | Scope.Scope> =>
  Effect.gen(function* () {
    const stopped = Effect.map(Ref.get(run), (r) => (r._tag === "Stopped" ? ["sync engine stopped"] : []))
    yield* (yield* Probes).add({
      readiness: Effect.zipWith(stopped, status, (reasons, s) => [...reasons, ...Option.match(s, {
        onNone: () => [],
        onSome: (e) => [...(e.synced ? [] : ["initial sync not done"]), ...(e.authFailed ? ["controller refused the token"] : [])]
      })]),
      liveness: Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const stuck = Option.exists(yield* status, (e) =>
          (e.pendingHosts > 0 || e.syncPending) && e.lastStepAt !== undefined && now - e.lastStepAt > stuckAfterMillis)
        return [...(yield* stopped), ...(stuck ? ["sync engine stalled"] : [])]
      }),
      status: Effect.map(status, (s) => {
        const e = Option.getOrElse(s, () => idleStatus)
        return {
          gateway_routes: e.registeredRoutes,
          sync: {
            running: Option.isSome(s), started: e.synced, last_sync_at: iso(e.lastSyncAt), pending_hosts: e.pendingHosts,
            conflicts: e.conflicts, auth_failed: e.authFailed, last_error: e.lastError ?? null
          }
        }
      })
    })
    const metrics = yield* Metrics
    const routes = yield* metrics.gauge({ name: "gateway_routes", help: "Registered (hostname, path) routes.", labels: [] })
    const pending = yield* metrics.gauge({ name: "gateway_hosts_pending", help: "Hostnames whose changes are still to be sent.", labels: [] })
    const conflicts = yield* metrics.gauge({ name: "gateway_route_conflicts", help: "Hostnames owned by another cluster.", labels: [] })
    const lastSync = yield* metrics.gauge({ name: "gateway_last_successful_sync_timestamp_seconds", help: "When the last authoritative sync succeeded.", labels: [] })
    yield* metrics.onScrape(Effect.flatMap(status, (s) => {
      const e = Option.getOrElse(s, () => idleStatus)
      return Effect.all([
        routes.set({}, e.registeredRoutes), pending.set({}, e.pendingHosts),
        conflicts.set({}, e.conflicts.length), lastSync.set({}, (e.lastSyncAt ?? 0) / 1000)
      ], { discard: true })
    }))
  })
