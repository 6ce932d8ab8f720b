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
  readonly register: Counter
  readonly unregister: Counter
  readonly sync: Counter
}

export const initialSyncStatus: SyncStatus = {
  decision: undefined, registeredRoutes: 0, pendingRoutes: 0, conflicts: [], started: false, lastSyncAt: undefined,
  lastError: undefined, authFailed: false, lastPassAt: undefined,
  register: { ok: 0, failed: 0 }, unregister: { ok: 0, failed: 0 }, sync: { ok: 0, failed: 0 }
}

/** Counts an outcome of `operation`. */
export const counted = (status: SyncStatus, operation: "register" | "unregister" | "sync", ok: boolean): SyncStatus => ({
  ...status,
  [operation]: ok
    ? { ...status[operation], ok: status[operation].ok + 1 }
    : { ...status[operation], failed: status[operation].failed + 1 }
})
