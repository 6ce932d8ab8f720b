/**
 * The routing decision over time: a newly computed decision takes effect at once,
 * except a switch away from direct, which waits a grace period so a load balancer that briefly
 * clears its status does not flap every route.
 */
import { Option, String } from "effect"
import type { RoutingDecision } from "./ClusterMode.js"

/** The decision in force, and since when (ms) a switch away from direct has been pending. */
export interface ModeState {
  readonly effective: RoutingDecision | undefined
  readonly pendingSince: number | undefined
}

export const initialModeState: ModeState = { effective: undefined, pendingSince: undefined }

/** What a new computed decision does: the next state, whether it changed, when to look again. */
export interface ModeStep {
  readonly state: ModeState
  readonly changed: boolean
  /** Set while a switch waits for its grace period to end: re-evaluate at this time (ms). */
  readonly wakeAt: number | undefined
}

/** Whether two decisions route the same way (mode and endpoint). */
export const sameRouting = (a: RoutingDecision, b: RoutingDecision): boolean =>
  a.routingMode === b.routingMode && a.publicEndpoint === b.publicEndpoint

const take = (computed: RoutingDecision): ModeStep =>
  ({ state: { effective: computed, pendingSince: undefined }, changed: true, wakeAt: undefined })

/** Whether two decisions are the same in every respect that someone follows (routing and upstream). */
export const sameDecision = (a: RoutingDecision, b: RoutingDecision): boolean =>
  sameRouting(a, b) && Option.getEquivalence(String.Equivalence)(a.upstream, b.upstream)

/** Applies a newly computed decision at `now` with a grace period of `graceMillis`. */
export const trackMode = (state: ModeState, computed: RoutingDecision, now: number, graceMillis: number): ModeStep => {
  const effective = state.effective
  if (effective === undefined) return take(computed)
  // The same routing: nothing to announce, but the upstream may have moved.
  if (sameRouting(effective, computed)) return { state: { effective: computed, pendingSince: undefined }, changed: false, wakeAt: undefined }
  const leavingDirect = effective.routingMode === "direct" && computed.routingMode === "tunnel"
  if (!leavingDirect) return take(computed)
  const pendingSince = state.pendingSince ?? now
  if (now - pendingSince >= graceMillis) return take(computed)
  return { state: { effective, pendingSince }, changed: false, wakeAt: pendingSince + graceMillis }
}
