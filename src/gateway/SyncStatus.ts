/**
 * What the sync engine shows of itself, for /status, readiness and metrics.
 */
import type { RoutingDecision } from "../domain/ClusterMode.js"

/** Successes and failures of one controller operation. */
export interface Counter {
  readonly ok: number
  readonly failed: number
}

export interface SyncStatus {
  /** The routing decision in force; `undefined` until the first one. */
  readonly decision: RoutingDecision | undefined
  /** (hostname, path) routes the controller has from us. */
  readonly registeredRoutes: number
  /** Routes that still differ from what is desired (retried). */
  readonly pendingRoutes: number
  /** Hostnames the controller gave to another cluster (409 or sync conflicts); not retried until a resync. */
  readonly conflicts: ReadonlyArray<string>
  /** The initial authoritative sync succeeded. */
  readonly started: boolean
  /** ms since the epoch of the last successful authoritative sync. */
  readonly lastSyncAt: number | undefined
  readonly lastError: string | undefined
  /** The controller refused the token: sending is paused and retried slowly. */
  readonly authFailed: boolean
  /** ms since the epoch of the engine's last pass: liveness. */
  readonly lastPassAt: number | undefined
  /** The engine's fiber ended with a failure: the agent is not alive. */
  readonly engineStopped: boolean
  readonly register: Counter
  readonly unregister: Counter
  readonly sync: Counter
  /** Controller call durations by operation (Prometheus histogram buckets, seconds). */
  readonly durations: Readonly<Partial<Record<"register" | "unregister" | "sync", Histogram>>>
}

/** Upper bounds (seconds) of the request-duration buckets; the last bucket is +Inf. */
export const durationBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** Cumulative counts per bucket (same order as `durationBuckets`), with the sum and count. */
export interface Histogram {
  readonly buckets: ReadonlyArray<number>
  readonly sum: number
  readonly count: number
}

/** Records one call of `seconds` under `operation`. */
export const observed = (status: SyncStatus, operation: "register" | "unregister" | "sync", seconds: number): SyncStatus => {
  const previous = status.durations[operation] ?? { buckets: durationBuckets.map(() => 0), sum: 0, count: 0 }
  const histogram: Histogram = {
    buckets: previous.buckets.map((n, i) => (seconds <= (durationBuckets[i] ?? Infinity) ? n + 1 : n)),
    sum: previous.sum + seconds,
    count: previous.count + 1
  }
  return { ...status, durations: { ...status.durations, [operation]: histogram } }
}

export const initialSyncStatus: SyncStatus = {
  decision: undefined, registeredRoutes: 0, pendingRoutes: 0, conflicts: [], started: false, lastSyncAt: undefined,
  lastError: undefined, authFailed: false, lastPassAt: undefined, engineStopped: false,
  register: { ok: 0, failed: 0 }, unregister: { ok: 0, failed: 0 }, sync: { ok: 0, failed: 0 }, durations: {}
}

/** Counts an outcome of `operation`. */
export const counted = (status: SyncStatus, operation: "register" | "unregister" | "sync", ok: boolean): SyncStatus => ({
  ...status,
  [operation]: ok
    ? { ...status[operation], ok: status[operation].ok + 1 }
    : { ...status[operation], failed: status[operation].failed + 1 }
})
