/**
 * The agent's view of the cluster: one reflector each for Ingresses, Services and IngressClasses,
 * their objects decoded into the domain's views, and a stream of what changed. Objects that do not
 * decode are reported once per version and left out, as if absent.
 */
import { type Chunk, Context, Deferred, Effect, type Either, Layer, Option, PubSub, type Scope, Stream } from "effect"
import { wellKnownControllers, type ModeOverrides } from "../domain/ClusterMode.js"
import type { Change, ClusterSnapshot } from "../domain/DesiredIndex.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
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
  /**
   * Watches the resources through `KubernetesApi`, cluster-wide or in the namespaces of `scope`;
   * adds the watch's probe and metrics.
   */
  static readonly layer = (options: ReflectorOptions, scope: WatchScope = watchEverything): Layer.Layer<ClusterCache, never, KubernetesApi | Metrics | Probes> =>
    Layer.scoped(ClusterCache, make(options, scope))
}

/**
 * What the agent lists and watches: Ingresses and Services in some namespaces only (an empty list:
 * every namespace), Ingresses only with matching labels. IngressClasses are cluster-scoped.
 */
export interface WatchScope {
  readonly ingressNamespaces: ReadonlyArray<string>
  readonly serviceNamespaces: ReadonlyArray<string>
  /** A label selector the API server applies to Ingresses. */
  readonly ingressLabelSelector: string | undefined
}

/** Everything, cluster-wide. */
export const watchEverything: WatchScope = { ingressNamespaces: [], serviceNamespaces: [], ingressLabelSelector: undefined }

/**
 * The scope the operator's filters allow: with namespaces selected, Ingresses in them only, and
 * Services in them plus where detection looks for the ingress controller (the configured
 * Service's namespace, else the well-known controllers'); the label selector for Ingresses.
 */
export const scopeFor = (selection: IngressSelection, overrides: ModeOverrides): WatchScope => {
  const controllers = overrides.ingressService !== undefined ? [overrides.ingressService] : wellKnownControllers
  const controllerNamespaces = controllers.map((key) => key.split("/")[0] ?? "")
  return {
    ingressNamespaces: selection.namespaces,
    serviceNamespaces: selection.namespaces.length === 0 ? [] : [...selection.namespaces, ...controllerNamespaces],
    ingressLabelSelector: Option.getOrUndefined(Option.map(selection.labelSelector, (s) => s.source))
  }
}

/** One reflector per namespace, or one cluster-wide. */
const inNamespaces = (namespaces: ReadonlyArray<string>): ReadonlyArray<string | undefined> =>
  namespaces.length === 0 ? [undefined] : [...new Set(namespaces)].sort()

interface Slot<A> {
  readonly kind: Change["kind"]
  readonly decode: (raw: unknown) => Either.Either<A, string>
  /**
   * Mutated in place by the slot's one fiber: copying a map per event made a 10,000-object start
   * quadratic. Readers get it as a read-only view.
   */
  readonly objects: Map<string, A>
  /** Completed when this slot has applied the first complete list of each of its reflectors. */
  readonly synced: Deferred.Deferred<void>
  /** How many of its reflectors have not completed their first list yet. */
  unsynced: number
}

const make = (options: ReflectorOptions, scope: WatchScope) => Effect.gen(function* () {
  const ingressReflectors = yield* Effect.forEach(inNamespaces(scope.ingressNamespaces), (namespace) =>
    makeReflector(ingresses, { ...options, namespace, labelSelector: scope.ingressLabelSelector }))
  const serviceReflectors = yield* Effect.forEach(inNamespaces(scope.serviceNamespaces), (namespace) => makeReflector(services, { ...options, namespace }))
  const classReflector = yield* makeReflector(ingressClasses, options)
  const reflectors = [...ingressReflectors, ...serviceReflectors, classReflector]
  const changes = yield* PubSub.unbounded<Change>()
  const slot = <A>(kind: Change["kind"], decode: Slot<A>["decode"], count: number) => Effect.gen(function* () {
    const result: Slot<A> = { kind, decode, objects: new Map<string, A>(), synced: yield* Deferred.make<void>(), unsynced: count }
    return result
  })
  const slots = {
    ingress: yield* slot("ingress", decodeIngress, ingressReflectors.length),
    service: yield* slot("service", decodeService, serviceReflectors.length),
    ingressClass: yield* slot("ingressClass", decodeIngressClass, 1)
  }

  /** Applies the events a reflector delivered together; one offer for all their changes. */
  const apply = <A>(slot: Slot<A>, events: Chunk.Chunk<CacheEvent>) => Effect.gen(function* () {
    const changed: Array<Change> = []
    for (const event of events) {
      if (event._tag === "Synced") {
        slot.unsynced -= 1
        if (slot.unsynced === 0) yield* Deferred.succeed(slot.synced, undefined)
        continue
      }
      const view = event._tag === "Deleted" ? Option.none<A>() : yield* decodeOrReport(slot, event.key, event.object)
      if (Option.isSome(view)) slot.objects.set(event.key, view.value)
      else slot.objects.delete(event.key)
      changed.push({ kind: slot.kind, key: event.key })
    }
    yield* PubSub.publishAll(changes, changed)
  })

  for (const reflector of ingressReflectors) yield* Effect.forkScoped(Stream.runForEachChunk(reflector.events, (e) => apply(slots.ingress, e)))
  for (const reflector of serviceReflectors) yield* Effect.forkScoped(Stream.runForEachChunk(reflector.events, (e) => apply(slots.service, e)))
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
