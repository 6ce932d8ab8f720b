/**
 * What a reflector shows of itself for /status, readiness and metrics.
 */
import type { FailureKind } from "./KubernetesError.js"

/** Why a watch ended and a new one (or a relist) began. */
export type RestartReason =
  | "closed" // the server ended the watch cleanly (its timeout): re-watch, no relist
  | "very_short" // closed within 1 s with no event: backoff and relist
  | "expired" // 410: relist
  | "error_event" // another in-stream ERROR: backoff and relist
  | "stream_failed" // the body was cut short or a line did not decode: backoff, re-watch
  | "watch_failed" // the watch request itself failed: backoff, retry
  | "list_failed" // the list failed: backoff, retry
  | "inactive" // no byte within the inactivity limit: re-watch
  | "deadline" // the client deadline passed: re-watch

/** A reflector's state. Times are ms since the epoch. */
export interface ReflectorStatus {
  readonly resource: string
  /** The first complete list has been applied and its events emitted. */
  readonly synced: boolean
  readonly lastResourceVersion: string | undefined
  readonly lastEventAt: number | undefined
  /** The last failure's kind while it persists (`Unauthorized`, `Forbidden`, …); cleared by a success. */
  readonly condition: FailureKind | undefined
  readonly lastError: string | undefined
  /** Since when (ms) the list or watch keeps failing; cleared once it works again. */
  readonly failingSince: number | undefined
  /** When the loop last did something: an event, a list, a restart (liveness). */
  readonly lastProgressAt: number | undefined
  readonly lists: number
  readonly restarts: Readonly<Partial<Record<RestartReason, number>>>
  /** Watch events received, by type (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`). */
  readonly events: Readonly<Partial<Record<string, number>>>
}

/** The status of a reflector that has not started. */
export const initialStatus = (resource: string): ReflectorStatus => ({
  resource, synced: false, lastResourceVersion: undefined, lastEventAt: undefined, condition: undefined,
  lastError: undefined, failingSince: undefined, lastProgressAt: undefined, lists: 0, restarts: {}, events: {}
})

/** Counts one more restart for `reason` at `now`. */
export const withRestart = (status: ReflectorStatus, reason: RestartReason, now: number): ReflectorStatus => ({
  ...status, lastProgressAt: now, restarts: { ...status.restarts, [reason]: (status.restarts[reason] ?? 0) + 1 }
})

/** Counts one watch event of `type` at `now`, with the resourceVersion it carried. */
export const withEvent = (status: ReflectorStatus, type: string, now: number, rv: string | undefined): ReflectorStatus => ({
  ...status,
  lastEventAt: now,
  lastProgressAt: now,
  lastResourceVersion: rv ?? status.lastResourceVersion,
  events: { ...status.events, [type]: (status.events[type] ?? 0) + 1 }
})
