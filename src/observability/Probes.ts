/**
 * What each feature says about itself to the admin server: why it is not ready, why it is not
 * alive, and its part of the `/status` document. Features add their probe while their layer
 * lives; the admin server only collects them, in the order they were added.
 */
import { Context, Effect, Layer, Ref, type Scope } from "effect"

/** One feature's contribution; every part is optional. */
export interface Probe {
  /** Reasons the agent is not ready because of this feature; empty when it is fine. */
  readonly readiness?: Effect.Effect<ReadonlyArray<string>>
  /** Reasons the agent should be restarted; empty when it is fine. */
  readonly liveness?: Effect.Effect<ReadonlyArray<string>>
  /** Fields merged into the top level of `/status`. */
  readonly status?: Effect.Effect<Readonly<Record<string, unknown>>>
}

export class Probes extends Context.Tag("pipeops-agent/observability/Probes")<Probes, {
  /** Adds a probe until the calling scope closes. */
  readonly add: (probe: Probe) => Effect.Effect<void, never, Scope.Scope>
  readonly readiness: Effect.Effect<ReadonlyArray<string>>
  readonly liveness: Effect.Effect<ReadonlyArray<string>>
  readonly status: Effect.Effect<Readonly<Record<string, unknown>>>
}>() {
  static readonly layer: Layer.Layer<Probes> = Layer.effect(Probes, Effect.gen(function* () {
    const probes = yield* Ref.make<ReadonlyArray<Probe>>([])
    const collect = <A>(part: (probe: Probe) => Effect.Effect<A> | undefined) =>
      Effect.flatMap(Ref.get(probes), (all) => Effect.all(all.flatMap((probe) => {
        const effect = part(probe)
        return effect === undefined ? [] : [effect]
      })))
    return Probes.of({
      add: (probe) => Effect.acquireRelease(
        Ref.update(probes, (all) => [...all, probe]),
        () => Ref.update(probes, (all) => all.filter((p) => p !== probe))),
      readiness: Effect.map(collect((p) => p.readiness), (reasons) => reasons.flat()),
      liveness: Effect.map(collect((p) => p.liveness), (reasons) => reasons.flat()),
      status: Effect.map(collect((p) => p.status), (parts) => Object.assign({}, ...parts))
    })
  }))
}
