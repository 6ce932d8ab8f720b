/**
 * The agent's view of the cluster: one reflector each for Ingresses, Services and IngressClasses,
 * their objects decoded into the domain's views, and a stream of what changed. Objects that do not
 * decode are reported once per version and left out, as if absent.
 */
import { type Chunk, Context, Deferred, Effect, type Either, Layer, Option, PubSub, type Scope, Stream } from "effect"
import type { Change, ClusterSnapshot } from "../domain/DesiredIndex.js"
import { decodeIngress, decodeIngressClass, decodeService } from "../domain/Views.js"
import type { CacheEvent } from "../kubernetes/CacheEvent.js"
import type { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import type { KubeObject } from "../kubernetes/KubeObject.js"
import { makeReflector, type ReflectorOptions } from "../kubernetes/Reflector.js"
import type { ReflectorStatus } from "../kubernetes/ReflectorStatus.js"
import { ingressClasses, ingresses, services } from "../kubernetes/Resources.js"
import { observeWatch } from "../kubernetes/WatchObservability.js"
import type { Metrics } from "../observability/Metrics.js"
import type { Probes } from "../observability/Probes.js"

export type { Change, ClusterSnapshot }

export class ClusterCache extends Context.Tag("pipeops-agent/gateway/ClusterCache")<ClusterCache, {
  /** Completes once all three resources have been listed completely. */
  readonly synced: Effect.Effect<void>
  /** The current objects: live read-only views, to be read without yielding in between. */
  readonly snapshot: Effect.Effect<ClusterSnapshot>
  /**
   * Subscribes to the keys of changed objects, in order, from now until the scope closes: take
   * the snapshot after subscribing and no change falls between the two. Changes nobody is
   * subscribed to are dropped (readers re-read the snapshot when they start).
   */
  readonly subscribe: Effect.Effect<Stream.Stream<Change>, never, Scope.Scope>
  /** The reflectors' states, for /status and metrics. */
  readonly reflectors: Effect.Effect<ReadonlyArray<ReflectorStatus>>
}>() {
  /** Watches the cluster-wide resources through `KubernetesApi`; adds the watch's probe and metrics. */
  static readonly layer = (options: ReflectorOptions): Layer.Layer<ClusterCache, never, KubernetesApi | Metrics | Probes> =>
    Layer.scoped(ClusterCache, make(options))
}

interface Slot<A> {
  readonly kind: Change["kind"]
  readonly decode: (raw: unknown) => Either.Either<A, string>
  /**
   * Mutated in place by the slot's one fiber: copying a map per event made a 10,000-object start
   * quadratic. Readers get it as a read-only view.
   */
  readonly objects: Map<string, A>
  /** Completed when this slot has applied its reflector's first complete list. */
  readonly synced: Deferred.Deferred<void>
}

const make = (options: ReflectorOptions) => Effect.gen(function* () {
  const reflectors = yield* Effect.all([
    makeReflector(ingresses, options), makeReflector(services, options), makeReflector(ingressClasses, options)
  ])
  const changes = yield* PubSub.unbounded<Change>()
  const slot = <A>(kind: Change["kind"], decode: Slot<A>["decode"]) => Effect.gen(function* () {
    const result: Slot<A> = { kind, decode, objects: new Map<string, A>(), synced: yield* Deferred.make<void>() }
    return result
  })
  const slots = {
    ingress: yield* slot("ingress", decodeIngress),
    service: yield* slot("service", decodeService),
    ingressClass: yield* slot("ingressClass", decodeIngressClass)
  }

  /** Applies the events a reflector delivered together; one offer for all their changes. */
  const apply = <A>(slot: Slot<A>, events: Chunk.Chunk<CacheEvent>) => Effect.gen(function* () {
    const changed: Array<Change> = []
    for (const event of events) {
      if (event._tag === "Synced") {
        yield* Deferred.succeed(slot.synced, undefined)
        continue
      }
      const view = event._tag === "Deleted" ? Option.none<A>() : yield* decodeOrReport(slot, event.key, event.object)
      if (Option.isSome(view)) slot.objects.set(event.key, view.value)
      else slot.objects.delete(event.key)
      changed.push({ kind: slot.kind, key: event.key })
    }
    yield* PubSub.publishAll(changes, changed)
  })

  const [ingressReflector, serviceReflector, classReflector] = reflectors
  yield* Effect.forkScoped(Stream.runForEachChunk(ingressReflector.events, (e) => apply(slots.ingress, e)))
  yield* Effect.forkScoped(Stream.runForEachChunk(serviceReflector.events, (e) => apply(slots.service, e)))
  yield* Effect.forkScoped(Stream.runForEachChunk(classReflector.events, (e) => apply(slots.ingressClass, e)))

  const synced = yield* Effect.cached(Effect.all([slots.ingress, slots.service, slots.ingressClass].map((s) => Deferred.await(s.synced)), { discard: true }))
  const statuses = Effect.all(reflectors.map((r) => r.status))
  yield* observeWatch(statuses)
  return ClusterCache.of({
    synced,
    snapshot: Effect.sync(() => ({
      ingresses: slots.ingress.objects,
      services: slots.service.objects,
      ingressClasses: slots.ingressClass.objects
    })),
    subscribe: Stream.fromPubSub(changes, { scoped: true }),
    reflectors: statuses
  })
})

/** Decodes an object; one that does not decode is reported and treated as absent. */
const decodeOrReport = <A>(slot: Slot<A>, key: string, object: KubeObject): Effect.Effect<Option.Option<A>> => {
  const decoded = slot.decode(object)
  if (decoded._tag === "Right") return Effect.succeed(Option.some(decoded.right))
  return Effect.logWarning("object skipped: it does not decode").pipe(
    Effect.annotateLogs({ kind: slot.kind, key, resourceVersion: object.metadata.resourceVersion ?? "", reason: decoded.left }),
    Effect.as(Option.none()))
}
