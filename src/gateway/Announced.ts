/**
 * The routing mode the controller last acknowledged from this replica (an authoritative sync that
 * succeeded), for whoever must act after the controller knows: the tunnel drains its connections
 * once a switch to direct has been announced. Empty on a replica that does not write.
 */
import { Context, Effect, Layer, Option, Stream, SubscriptionRef } from "effect"
import type { RoutingMode } from "../domain/Route.js"

export class Announced extends Context.Tag("pipeops-agent/gateway/Announced")<Announced, {
  /** Records the mode of a sync the controller acknowledged. */
  readonly set: (mode: RoutingMode) => Effect.Effect<void>
  /** Completes once `mode` is the last acknowledged one (at once if it already is). */
  readonly awaitMode: (mode: RoutingMode) => Effect.Effect<void>
}>() {
  static readonly layer: Layer.Layer<Announced> = Layer.effect(Announced, Effect.map(SubscriptionRef.make(Option.none<RoutingMode>()), (ref) => Announced.of({
    set: (mode) => SubscriptionRef.update(ref, (current) => (Option.contains(current, mode) ? current : Option.some(mode))),
    awaitMode: (mode) => Stream.runDrain(Stream.takeUntil(ref.changes, (current) => Option.contains(current, mode)))
  })))
}
