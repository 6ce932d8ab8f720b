/**
 * The sync engine's decisions as a pure step: `step(state, input, now)` returns the
 * next state, the controller calls to make, and when to take a step again.
 *
 * - Nothing is sent before a term started and a routing decision is known; then one authoritative
 *   sync. A new decision, a resync and a path orphaned on a still-claimed hostname ask for another.
 * - Afterwards a change marks its hostname; marked hostnames are planned oldest first (desired
 *   against registered) and their calls run with at most `concurrency` hostnames in flight. A
 *   hostname has one call sequence at a time (its calls stay ordered); one that changes while in
 *   flight is planned again when its calls return. A hostname that failed waits for its own retry
 *   and never holds up another.
 * - A sync replaces the controller's whole set: starting one cancels the hostname calls in flight
 *   (the runner interrupts them) and covers every marked hostname.
 */
import { HashMap, HashSet, Option, RedBlackTree } from "effect"
import type { RoutingDecision } from "./ClusterMode.js"
import { sameRouting } from "./ModeTracking.js"
import { planRoutes } from "./RoutePlan.js"
import type { Route } from "./Route.js"
import type { EngineState } from "./EngineState.js"

/** Why a call failed, as far as the engine cares. */
export interface CallFailure {
  readonly message: string
  /** The controller refused the token: every call pauses. */
  readonly auth: boolean
}

/** What happens to the engine. */
export type EngineInput =
  /** A term begins (the caches are synced; this replica writes). */
  | { readonly _tag: "Start" }
  /** The desired routes of these hostnames are now these (empty: no longer claimed). */
  | { readonly _tag: "Desired"; readonly hosts: ReadonlyArray<readonly [string, ReadonlyArray<Route>]> }
  | { readonly _tag: "Decision"; readonly decision: RoutingDecision }
  /** The periodic resync is due. */
  | { readonly _tag: "Resync" }
  /** Time passed: a timer may be due. */
  | { readonly _tag: "Tick" }
  | {
    readonly _tag: "SyncDone"; readonly ticket: number
    readonly result:
      | { readonly _tag: "Ok"; readonly routes: ReadonlyArray<Route>; readonly conflicts: ReadonlyArray<string> }
      | { readonly _tag: "Failed"; readonly failure: CallFailure }
  }
  | {
    readonly _tag: "HostDone"; readonly ticket: number; readonly hostname: string
    /** The unregister call succeeded. */
    readonly unregistered: boolean
    /** The routes whose register calls succeeded. */
    readonly registered: ReadonlyArray<Route>
    /** The controller said another cluster owns the hostname (409). */
    readonly conflict: boolean
    /** The call the sequence stopped at, if one failed. */
    readonly failure: CallFailure | undefined
  }

/** A call for the runner to make; its outcome comes back as `SyncDone` or `HostDone` with its ticket. */
export type EngineCall =
  /** Send every desired route authoritatively; first interrupt the hostname calls in flight. */
  | { readonly _tag: "Sync"; readonly ticket: number; readonly routes: ReadonlyArray<Route>; readonly decision: RoutingDecision }
  /** One hostname's calls in order: unregister (when set), then one register per route. */
  | {
    readonly _tag: "Host"; readonly ticket: number; readonly hostname: string
    readonly unregister: boolean; readonly routes: ReadonlyArray<Route>; readonly decision: RoutingDecision
  }

export interface Step {
  readonly state: EngineState
  readonly calls: ReadonlyArray<EngineCall>
  /** Take a step (a `Tick`) at this time; `undefined`: only when an input comes. */
  readonly wakeAt: number | undefined
}

type Draft = { -readonly [K in keyof EngineState]: EngineState[K] }

const retryDelay = (s: Draft, failures: number): number =>
  s.settings.retryDelays[Math.min(failures, s.settings.retryDelays.length) - 1] ?? 0

/** Marks a hostname for planning: queued, or dirty while its calls run, or left to its retry. */
const mark = (s: Draft, hostname: string) => {
  // Before the first sync is sent, that sync carries every desired route.
  if (!s.synced && s.sync.ticket === undefined) return
  const flight = HashMap.get(s.inFlight, hostname)
  if (Option.isSome(flight)) {
    if (!flight.value.dirty) s.inFlight = HashMap.set(s.inFlight, hostname, { ...flight.value, dirty: true })
    return
  }
  if (HashMap.has(s.queued, hostname) || HashMap.has(s.waiting, hostname)) return
  s.queue = RedBlackTree.insert(s.queue, s.sequence, hostname)
  s.queued = HashMap.set(s.queued, hostname, s.sequence)
  s.sequence += 1
}

/** The routes by hostname, those of refused hostnames left out. */
const byHostname = (routes: ReadonlyArray<Route>, refused: HashSet.HashSet<string>) => {
  const groups = new Map<string, Array<Route>>()
  for (const route of routes) {
    if (HashSet.has(refused, route.hostname)) continue
    const group = groups.get(route.hostname)
    if (group === undefined) groups.set(route.hostname, [route])
    else group.push(route)
  }
  return HashMap.fromIterable(groups)
}

/** Sends every desired route: whatever was marked, in flight or waiting is covered by it. */
const startSync = (s: Draft, decision: RoutingDecision, calls: Array<EngineCall>) => {
  const ticket = s.nextTicket++
  const routes = [...HashMap.values(s.desired)].flat()
  s.queue = RedBlackTree.empty(RedBlackTree.getOrder(s.queue))
  s.queued = HashMap.empty()
  s.inFlight = HashMap.empty()
  s.waiting = HashMap.empty()
  s.failures = HashMap.empty()
  s.orphanSyncAt = undefined
  s.sync = { ...s.sync, wanted: false, ticket }
  calls.push({ _tag: "Sync", ticket, routes, decision })
}

/** Plans one hostname against what is registered; starts its calls when it needs any. */
const planHost = (s: Draft, hostname: string, decision: RoutingDecision, now: number, calls: Array<EngineCall>) => {
  const desired = Option.getOrElse(HashMap.get(s.desired, hostname), () => [])
  if (HashSet.has(s.refused, hostname)) {
    // Another cluster owns it: nothing is sent until a sync; forgotten once nothing claims it.
    if (desired.length === 0) s.refused = HashSet.remove(s.refused, hostname)
    return
  }
  const plan = planRoutes(desired, Option.getOrElse(HashMap.get(s.registered, hostname), () => []))
  if (plan.orphaned.length > 0 && s.orphanSyncAt === undefined) s.orphanSyncAt = now + s.settings.orphanSyncDelay
  if (plan.register.length === 0 && plan.unregister.length === 0) return
  const ticket = s.nextTicket++
  s.inFlight = HashMap.set(s.inFlight, hostname, { ticket, dirty: false })
  calls.push({ _tag: "Host", ticket, hostname, unregister: plan.unregister.length > 0, routes: plan.register, decision })
}

/** Starts what may start now: the sync when wanted, else hostnames up to the concurrency. */
const dispatch = (s: Draft, now: number, calls: Array<EngineCall>) => {
  const decision = s.decision
  if (!s.started || decision === undefined || now < s.pausedUntil || s.sync.ticket !== undefined) return
  if (s.sync.wanted && now >= s.sync.retryAt) return startSync(s, decision, calls)
  if (!s.synced) return
  while (HashMap.size(s.inFlight) < s.settings.concurrency) {
    const next = RedBlackTree.first(s.queue)
    if (Option.isNone(next)) return
    const [seq, hostname] = next.value
    s.queue = RedBlackTree.removeFirst(s.queue, seq)
    s.queued = HashMap.remove(s.queued, hostname)
    planHost(s, hostname, decision, now, calls)
  }
}

/** Fires the timers that are due: retries of failed hostnames, the orphaned-path sync. */
const fireTimers = (s: Draft, now: number) => {
  if (s.wakeAt === undefined || now < s.wakeAt) return
  for (const [hostname, at] of s.waiting) {
    if (at > now) continue
    s.waiting = HashMap.remove(s.waiting, hostname)
    mark(s, hostname)
  }
  if (s.orphanSyncAt !== undefined && now >= s.orphanSyncAt) {
    s.orphanSyncAt = undefined
    s.sync = { ...s.sync, wanted: true }
  }
}

/** The earliest time something becomes due. */
const nextWake = (s: Draft, now: number): number | undefined => {
  const times: Array<number> = [...HashMap.values(s.waiting)]
  if (s.orphanSyncAt !== undefined) times.push(s.orphanSyncAt)
  if (s.pausedUntil > now) times.push(s.pausedUntil)
  if (s.sync.wanted && s.sync.ticket === undefined && s.sync.retryAt > now) times.push(s.sync.retryAt)
  return times.length === 0 ? undefined : Math.min(...times)
}

const recordFailure = (s: Draft, failure: CallFailure, now: number) => {
  s.lastError = failure.message
  if (!failure.auth) return
  s.authFailed = true
  s.pausedUntil = now + s.settings.authRetry
}

const syncDone = (s: Draft, input: Extract<EngineInput, { _tag: "SyncDone" }>, now: number) => {
  if (input.ticket !== s.sync.ticket) return
  if (input.result._tag === "Failed") {
    const failures = s.sync.failures + 1
    s.sync = { wanted: true, ticket: undefined, failures, retryAt: now + retryDelay(s, failures) }
    return recordFailure(s, input.result.failure, now)
  }
  s.refused = HashSet.fromIterable(input.result.conflicts)
  s.registered = byHostname(input.result.routes, s.refused)
  s.registeredRoutes = HashMap.reduce(s.registered, 0, (n, routes) => n + routes.length)
  s.sync = { wanted: s.sync.wanted, ticket: undefined, failures: 0, retryAt: 0 }
  s.synced = true
  s.lastSyncAt = now
  s.authFailed = false
  s.lastError = undefined
}

/** Records what one hostname's calls achieved; a failure makes it wait for its retry. */
const hostDone = (s: Draft, input: Extract<EngineInput, { _tag: "HostDone" }>, now: number) => {
  const flight = HashMap.get(s.inFlight, input.hostname)
  if (Option.isNone(flight) || flight.value.ticket !== input.ticket) return
  const hostname = input.hostname
  s.inFlight = HashMap.remove(s.inFlight, hostname)
  const before = Option.getOrElse(HashMap.get(s.registered, hostname), () => [])
  if (input.unregistered) s.refused = HashSet.remove(s.refused, hostname)
  const replaced = new Set(input.registered.map((r) => r.key))
  const kept = input.unregistered ? [] : before.filter((r) => !replaced.has(r.key))
  const merged = [...kept, ...input.registered]
  s.registeredRoutes += merged.length - before.length
  s.registered = merged.length === 0 ? HashMap.remove(s.registered, hostname) : HashMap.set(s.registered, hostname, merged)
  if (input.conflict) s.refused = HashSet.add(s.refused, hostname)
  if (input.failure !== undefined) {
    const failures = Option.getOrElse(HashMap.get(s.failures, hostname), () => 0) + 1
    s.failures = HashMap.set(s.failures, hostname, failures)
    s.waiting = HashMap.set(s.waiting, hostname, now + retryDelay(s, failures))
    return recordFailure(s, input.failure, now)
  }
  s.failures = HashMap.remove(s.failures, hostname)
  s.authFailed = false
  if (flight.value.dirty) mark(s, hostname)
}

const apply = (s: Draft, input: EngineInput, now: number) => {
  switch (input._tag) {
    case "Start":
      s.started = true
      s.sync = { ...s.sync, wanted: true }
      return
    case "Desired":
      s.desired = HashMap.mutate(s.desired, (desired) => {
        for (const [hostname, routes] of input.hosts) {
          if (routes.length === 0) HashMap.remove(desired, hostname)
          else HashMap.set(desired, hostname, routes)
        }
      })
      for (const [hostname] of input.hosts) mark(s, hostname)
      return
    case "Decision":
      if (s.decision !== undefined && sameRouting(s.decision, input.decision)) return
      s.decision = input.decision
      s.sync = { ...s.sync, wanted: true }
      return
    case "Resync":
      s.sync = { ...s.sync, wanted: true }
      return
    case "Tick":
      return
    case "SyncDone":
      return syncDone(s, input, now)
    case "HostDone":
      return hostDone(s, input, now)
  }
}

/** The engine's step: the input applied at `now`, due timers fired, and what may start started. */
export const step = (state: EngineState, input: EngineInput, now: number): Step => {
  const s: Draft = { ...state, lastStepAt: now }
  const calls: Array<EngineCall> = []
  apply(s, input, now)
  fireTimers(s, now)
  dispatch(s, now, calls)
  s.wakeAt = nextWake(s, now)
  return { state: s, calls, wakeAt: s.wakeAt }
}
