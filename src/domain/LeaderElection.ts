/**
 * Leader election over a Kubernetes Lease, as a pure step with client-go's rules:
 * - a lease held by another replica counts as expired only when it has not changed for its
 *   duration by the local time at which this replica last saw it change: remote timestamps are
 *   never compared with the local clock (the clocks may disagree);
 * - a write carries the resourceVersion it read, so of two replicas only one wins (409 for the
 *   other); `leaseTransitions` grows when the holder changes;
 * - a leader that could not renew for the renew deadline stops leading (before the lease can
 *   expire elsewhere); a leader that stops gracefully releases the lease (empty holder) so a
 *   follower takes over at once.
 */

/** The lease's spec fields the election reads and writes; times are MicroTime strings. */
export interface LeaseRecord {
  /** `""`: released, anyone may take it. */
  readonly holderIdentity: string
  readonly leaseDurationSeconds: number
  readonly acquireTime: string | undefined
  readonly renewTime: string | undefined
  readonly leaseTransitions: number
}

/** A lease as read: its record and the resourceVersion a write must carry. */
export interface Lease {
  readonly record: LeaseRecord
  readonly resourceVersion: string
}

/** Durations in milliseconds; lease duration > renew deadline > retry period. */
export interface ElectionTimings {
  readonly leaseDuration: number
  readonly renewDeadline: number
  readonly retryPeriod: number
}

export interface ElectionState {
  readonly identity: string
  readonly timings: ElectionTimings
  /** The lease as last read or written. */
  readonly observed: Lease | undefined
  /** Local time at which `observed` last changed. */
  readonly observedAt: number
  readonly leading: boolean
  /** Local time of this replica's last successful acquire or renew. */
  readonly renewedAt: number | undefined
}

/** What happened: a read (`undefined`: no lease), our write accepted, a request failed, or a graceful stop. */
export type ElectionInput =
  | { readonly _tag: "Observed"; readonly lease: Lease | undefined }
  | { readonly _tag: "Written"; readonly lease: Lease }
  | { readonly _tag: "Failed"; readonly reason: string }
  | { readonly _tag: "Release" }

/** The write to make next, if any. */
export type LeaseWrite =
  | { readonly _tag: "Create"; readonly record: LeaseRecord }
  | { readonly _tag: "Update"; readonly record: LeaseRecord; readonly resourceVersion: string }

export interface ElectionStep {
  readonly state: ElectionState
  readonly write: LeaseWrite | undefined
  /** Set when leadership ended in this step, with why. */
  readonly lost: string | undefined
}

export const initialElection = (identity: string, timings: ElectionTimings): ElectionState =>
  ({ identity, timings, observed: undefined, observedAt: 0, leading: false, renewedAt: undefined })

/** A Kubernetes MicroTime: RFC 3339 in UTC with exactly six fractional digits (the API server refuses three). */
export const formatMicroTime = (millis: number): string => new Date(millis).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")

const seconds = (millis: number) => Math.max(1, Math.round(millis / 1000))

/** Whether another replica holds the lease and it has changed within its duration (by our clock). */
const heldElsewhere = (state: ElectionState, lease: Lease, now: number): boolean =>
  lease.record.holderIdentity !== "" && lease.record.holderIdentity !== state.identity &&
  state.observedAt + lease.record.leaseDurationSeconds * 1000 > now

/** Our claim on the lease: renewal keeps the acquire time and the transitions, a takeover counts one. */
const claim = (state: ElectionState, lease: Lease | undefined, now: number): LeaseRecord => {
  const ours = lease?.record.holderIdentity === state.identity
  return {
    holderIdentity: state.identity,
    leaseDurationSeconds: seconds(state.timings.leaseDuration),
    acquireTime: ours ? lease.record.acquireTime : formatMicroTime(now),
    renewTime: formatMicroTime(now),
    leaseTransitions: lease === undefined ? 0 : ours ? lease.record.leaseTransitions : lease.record.leaseTransitions + 1
  }
}

const apply = (state: ElectionState, input: ElectionInput, now: number): { state: ElectionState; write: LeaseWrite | undefined } => {
  switch (input._tag) {
    case "Observed": {
      const lease = input.lease
      if (lease === undefined) return { state, write: { _tag: "Create", record: claim(state, undefined, now) } }
      const changed = lease.resourceVersion !== state.observed?.resourceVersion
      const next = changed ? { ...state, observed: lease, observedAt: now } : state
      if (heldElsewhere(next, lease, now)) return { state: { ...next, leading: false }, write: undefined }
      return { state: next, write: { _tag: "Update", record: claim(next, lease, now), resourceVersion: lease.resourceVersion } }
    }
    case "Written":
      return { state: { ...state, observed: input.lease, observedAt: now, leading: true, renewedAt: now }, write: undefined }
    case "Failed":
      return { state, write: undefined }
    case "Release": {
      const lease = state.observed
      if (!state.leading || lease === undefined) return { state: { ...state, leading: false }, write: undefined }
      const record = { ...lease.record, holderIdentity: "", leaseDurationSeconds: 1, renewTime: formatMicroTime(now) }
      return { state: { ...state, leading: false }, write: { _tag: "Update", record, resourceVersion: lease.resourceVersion } }
    }
  }
}

/** One step: the input applied at `now`; a leader past its renew deadline stops leading. */
export const electionStep = (state: ElectionState, input: ElectionInput, now: number): ElectionStep => {
  const applied = apply(state, input, now)
  const expired = applied.state.leading && applied.state.renewedAt !== undefined &&
    now - applied.state.renewedAt >= state.timings.renewDeadline
  if (expired) {
    return { state: { ...applied.state, leading: false }, write: undefined, lost: `no renewal within the renew deadline (${input._tag === "Failed" ? input.reason : "renewal refused"})` }
  }
  const lost = state.leading && !applied.state.leading && input._tag !== "Release" ? "the lease is held by another replica" : undefined
  return { ...applied, lost }
}
