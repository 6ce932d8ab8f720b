/**
 * The sync engine's state as one immutable value: what the cluster desires, what the
 * controller has from us, which hostnames wait for calls, which calls are in flight, and the
 * timers (retries, the pause after a refused token, the sync that clears orphaned paths). The
 * step in `SyncEngine` is the only thing that makes a new one; `statusOf` is what the engine
 * shows of it. Collections are persistent (HashMap, RedBlackTree): a step costs what it changes.
 */
import { HashMap, HashSet, Number as Num, RedBlackTree } from "effect"
import type { RoutingDecision } from "./ClusterMode.js"
import type { Route } from "./Route.js"

/** The engine's knobs; times in milliseconds. */
export interface EngineSettings {
  /** Hostnames with calls in flight at once. */
  readonly concurrency: number
  /** A path removed from a still-claimed hostname is cleared by a sync within this delay. */
  readonly orphanSyncDelay: number
  /** Delay before retrying after the 1st, 2nd, … consecutive failure; the last one repeats. */
  readonly retryDelays: ReadonlyArray<number>
  /** Pause of every call after the controller refused the token. */
  readonly authRetry: number
}

/** A hostname whose calls are running; `dirty` when its desired routes changed meanwhile. */
export interface InFlight {
  readonly ticket: number
  readonly dirty: boolean
}

/** The authoritative sync: wanted, running (its ticket), and its own failure streak. */
export interface SyncPhase {
  readonly wanted: boolean
  readonly ticket: number | undefined
  readonly failures: number
  /** Not sent again before this time after a failure. */
  readonly retryAt: number
}

export interface EngineState {
  readonly settings: EngineSettings
  /** A term began: sending is allowed once a decision is known. */
  readonly started: boolean
  /** The first authoritative sync of the term succeeded. */
  readonly synced: boolean
  /** The routing decision every call carries; a new one means a sync. */
  readonly decision: RoutingDecision | undefined
  /** Desired routes by hostname (conflicts between Ingresses already settled). */
  readonly desired: HashMap.HashMap<string, ReadonlyArray<Route>>
  /** What the controller acknowledged, by hostname. */
  readonly registered: HashMap.HashMap<string, ReadonlyArray<Route>>
  /** How many (hostname, path) routes `registered` holds. */
  readonly registeredRoutes: number
  /** Hostnames the controller gave to another cluster: not sent again until a sync. */
  readonly refused: HashSet.HashSet<string>
  /** Hostnames to plan, oldest first (by sequence number). */
  readonly queue: RedBlackTree.RedBlackTree<number, string>
  /** The sequence number of each queued hostname. */
  readonly queued: HashMap.HashMap<string, number>
  readonly inFlight: HashMap.HashMap<string, InFlight>
  /** Consecutive failures per hostname. */
  readonly failures: HashMap.HashMap<string, number>
  /** Hostnames whose calls failed, with the time they are planned again. */
  readonly waiting: HashMap.HashMap<string, number>
  readonly sync: SyncPhase
  /** When a sync clears paths that went away from still-claimed hostnames. */
  readonly orphanSyncAt: number | undefined
  /** No call before this time: the controller refused the token. */
  readonly pausedUntil: number
  readonly authFailed: boolean
  readonly lastError: string | undefined
  readonly lastSyncAt: number | undefined
  /** When the engine last took a step: liveness. */
  readonly lastStepAt: number | undefined
  /** The next queue sequence number. */
  readonly sequence: number
  /** The next call's ticket. */
  readonly nextTicket: number
  /** The earliest time something becomes due; the engine must take a step then. */
  readonly wakeAt: number | undefined
}

/** The state of a new term: nothing desired, nothing known registered, nothing sent. */
export const initialEngineState = (settings: EngineSettings): EngineState => ({
  settings, started: false, synced: false, decision: undefined,
  desired: HashMap.empty(), registered: HashMap.empty(), registeredRoutes: 0, refused: HashSet.empty(),
  queue: RedBlackTree.empty(Num.Order), queued: HashMap.empty(), inFlight: HashMap.empty(),
  failures: HashMap.empty(), waiting: HashMap.empty(),
  sync: { wanted: false, ticket: undefined, failures: 0, retryAt: 0 },
  orphanSyncAt: undefined, pausedUntil: 0, authFailed: false, lastError: undefined, lastSyncAt: undefined,
  lastStepAt: undefined, sequence: 0, nextTicket: 0, wakeAt: undefined
})

/** What the engine shows of itself: /status, readiness, metrics and heartbeats read this. */
export interface EngineStatus {
  readonly started: boolean
  /** The first authoritative sync succeeded. */
  readonly synced: boolean
  readonly decision: RoutingDecision | undefined
  /** (hostname, path) routes the controller has from us. */
  readonly registeredRoutes: number
  /** Hostnames whose changes are still to be sent: queued, in flight or waiting to retry. */
  readonly pendingHosts: number
  /** An authoritative sync is wanted or running. */
  readonly syncPending: boolean
  /** Hostnames owned by another cluster, sorted. */
  readonly conflicts: ReadonlyArray<string>
  readonly authFailed: boolean
  readonly lastError: string | undefined
  readonly lastSyncAt: number | undefined
  readonly lastStepAt: number | undefined
}

/** The status shown while no term runs. */
export const idleStatus: EngineStatus = {
  started: false, synced: false, decision: undefined, registeredRoutes: 0, pendingHosts: 0, syncPending: false,
  conflicts: [], authFailed: false, lastError: undefined, lastSyncAt: undefined, lastStepAt: undefined
}

/** The status of a state. */
export const statusOf = (state: EngineState): EngineStatus => ({
  started: state.started,
  synced: state.synced,
  decision: state.decision,
  registeredRoutes: state.registeredRoutes,
  pendingHosts: HashMap.size(state.queued) + HashMap.size(state.inFlight) + HashMap.size(state.waiting),
  syncPending: state.sync.wanted || state.sync.ticket !== undefined,
  conflicts: [...state.refused].sort(),
  authFailed: state.authFailed,
  lastError: state.lastError,
  lastSyncAt: state.lastSyncAt,
  lastStepAt: state.lastStepAt
})
