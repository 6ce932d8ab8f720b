/**
 * The agent's view of the cluster: one reflector each for Ingresses, Services and IngressClasses,
 * their objects decoded into the domain's views, and a stream of what changed. Objects that do not
 * decode are reported once per version and left out, as if absent. Gateways and HTTPRoutes are
 * watched too while the cluster serves the Gateway API: discovery asks at start and every
 * `discoveryInterval`, so CRDs installed (or removed) later are followed without a restart.
 */
import { type Chunk, Context, Deferred, Duration, Effect, type Either, FiberHandle, Layer, Option, PubSub, Ref, type Scope, Stream } from "effect"
import { wellKnownControllers, type ModeOverrides } from "../domain/ClusterMode.js"
import type { Change, ClusterSnapshot } from "../domain/DesiredIndex.js"
import { decodeGateway, decodeHTTPRoute, type GatewayView, type HTTPRouteView } from "../domain/GatewayViews.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
import { decodeIngress, decodeIngressClass, decodeService } from "../domain/Views.js"
import type { CacheEvent } from "../kubernetes/CacheEvent.js"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import type { KubeObject } from "../kubernetes/KubeObject.js"
import { makeReflector, type Reflector, type ReflectorOptions } from "../kubernetes/Reflector.js"
import type { ReflectorStatus } from "../kubernetes/ReflectorStatus.js"
import { gatewayApi, gateways, httpRoutes, ingressClasses, ingresses, services } from "../kubernetes/Resources.js"
import { observeWatch } from "../kubernetes/WatchObservability.js"
import type { Metrics } from "../observability/Metrics.js"
import type { Probes } from "../observability/Probes.js"

export type { Change, ClusterSnapshot }

export class ClusterCache extends Context.Tag("pipeops-agent/gateway/ClusterCache")<ClusterCache, {
  /** Completes once every resource watched has been listed completely (the Gateway API's if served at start). */
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
  static readonly layer = (
    options: ReflectorOptions,
    scope: WatchScope = watchEverything,
    discoveryInterval: Duration.Duration = Duration.minutes(5)
  ): Layer.Layer<ClusterCache, never, KubernetesApi | Metrics | Probes> =>
    Layer.scoped(ClusterCache, make(options, scope, discoveryInterval))
}

/**
 * What the agent lists and watches: Ingresses and Services in some namespaces only (an empty list:
 * every namespace), Ingresses only with matching labels. IngressClasses are cluster-scoped.
 */
export interface WatchScope {
  /** Where Ingresses and HTTPRoutes are watched. */
  readonly ingressNamespaces: ReadonlyArray<string>
  readonly serviceNamespaces: ReadonlyArray<string>
  readonly gatewayNamespaces: ReadonlyArray<string>
  /** A label selector the API server applies to Ingresses and HTTPRoutes. */
  readonly ingressLabelSelector: string | undefined
}

/** Everything, cluster-wide. */
export const watchEverything: WatchScope = { ingressNamespaces: [], serviceNamespaces: [], gatewayNamespaces: [], ingressLabelSelector: undefined }

/**
 * The scope the operator's filters allow: with namespaces selected, Ingresses in them only, and
 * Services in them plus where detection looks for the ingress controller (the configured
 * Service's namespace, else the well-known controllers'), Gateways in them plus the configured
 * Gateway's; the label selector for Ingresses and HTTPRoutes.
 */
export const scopeFor = (selection: IngressSelection, overrides: ModeOverrides): WatchScope => {
  const controllers = overrides.ingressService !== undefined ? [overrides.ingressService] : wellKnownControllers
  const controllerNamespaces = controllers.map((key) => key.split("/")[0] ?? "")
  const gatewayNamespace = overrides.gateway === undefined ? [] : [overrides.gateway.split("/")[0] ?? ""]
  return {
    ingressNamespaces: selection.namespaces,
    serviceNamespaces: selection.namespaces.length === 0 ? [] : [...selection.namespaces, ...controllerNamespaces],
    gatewayNamespaces: selection.namespaces.length === 0 ? [] : [...selection.namespaces, ...gatewayNamespace],
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

const make = (options: ReflectorOptions, scope: WatchScope, discoveryInterval: Duration.Duration) => Effect.gen(function* () {
  const ingressReflectors = yield* Effect.forEach(inNamespaces(scope.ingressNamespaces), (namespace) =>
    makeReflector(ingresses, { ...options, namespace, labelSelector: scope.ingressLabelSelector }))
  const serviceReflectors = yield* Effect.forEach(inNamespaces(scope.serviceNamespaces), (namespace) => makeReflector(services, { ...options, namespace }))
  const classReflector = yield* makeReflector(ingressClasses, options)
  const reflectors = [...ingressReflectors, ...serviceReflectors, classReflector]
  const changes = yield* PubSub.unbounded<Change>()
  const slots = {
    ingress: yield* makeSlot("ingress", decodeIngress, ingressReflectors.length),
    service: yield* makeSlot("service", decodeService, serviceReflectors.length),
    ingressClass: yield* makeSlot("ingressClass", decodeIngressClass, 1)
  }
  const apply = applier(changes)
  for (const reflector of ingressReflectors) yield* Effect.forkScoped(Stream.runForEachChunk(reflector.events, (e) => apply(slots.ingress, e)))
  for (const reflector of serviceReflectors) yield* Effect.forkScoped(Stream.runForEachChunk(reflector.events, (e) => apply(slots.service, e)))
  yield* Effect.forkScoped(Stream.runForEachChunk(classReflector.events, (e) => apply(slots.ingressClass, e)))

  const gatewayPart = yield* followGatewayApi(options, scope, discoveryInterval, changes)
  const synced = yield* Effect.cached(Effect.all([
    ...[slots.ingress, slots.service, slots.ingressClass].map((s) => Deferred.await(s.synced)), gatewayPart.ready
  ], { discard: true }))
  const statuses = Effect.map(gatewayPart.reflectors, (more) => [...reflectors, ...more]).pipe(Effect.flatMap((all) => Effect.all(all.map((r) => r.status))))
  yield* observeWatch(statuses)
  return ClusterCache.of({
    synced,
    snapshot: Effect.sync(() => ({
      ingresses: slots.ingress.objects,
      services: slots.service.objects,
      ingressClasses: slots.ingressClass.objects,
      ...gatewayPart.objects()
    })),
    subscribe: Stream.fromPubSub(changes, { scoped: true }),
    reflectors: statuses
  })
})

const makeSlot = <A>(kind: Change["kind"], decode: Slot<A>["decode"], count: number) =>
  Effect.map(Deferred.make<void>(), (synced): Slot<A> => ({ kind, decode, objects: new Map<string, A>(), synced, unsynced: count }))

/** Applies the events a reflector delivered together; one offer for all their changes. */
const applier = (changes: PubSub.PubSub<Change>) => <A>(slot: Slot<A>, events: Chunk.Chunk<CacheEvent>) => Effect.gen(function* () {
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

const noObjects: ReadonlyMap<string, never> = new Map<string, never>()

/** How long the first sync waits for the Gateway API's first lists. */
const gatewayListWait = Duration.seconds(15)

/**
 * Gateways and HTTPRoutes, while discovery says the Gateway API is served. `ready` completes after
 * the first discovery, once their first lists are in when it is served; an API that goes away
 * takes its objects with it (each a change).
 */
const followGatewayApi = (options: ReflectorOptions, scope: WatchScope, interval: Duration.Duration, changes: PubSub.PubSub<Change>) => Effect.gen(function* () {
  const api = yield* KubernetesApi
  const apply = applier(changes)
  const ready = yield* Deferred.make<void>()
  const running = yield* Ref.make<ReadonlyArray<Reflector>>([])
  const watching = yield* FiberHandle.make()
  let current: { readonly gateway: Slot<GatewayView>; readonly httproute: Slot<HTTPRouteView> } | undefined

  const start = Effect.gen(function* () {
    const gatewaySpaces = inNamespaces(scope.gatewayNamespaces)
    const routeSpaces = inNamespaces(scope.ingressNamespaces)
    const fresh = { gateway: yield* makeSlot("gateway", decodeGateway, gatewaySpaces.length), httproute: yield* makeSlot("httproute", decodeHTTPRoute, routeSpaces.length) }
    current = fresh
    yield* Effect.logInfo("the cluster serves the Gateway API: watching Gateways and HTTPRoutes")
    yield* FiberHandle.run(watching, Effect.scoped(Effect.gen(function* () {
      const gatewayReflectors = yield* Effect.forEach(gatewaySpaces, (namespace) => makeReflector(gateways, { ...options, namespace }))
      const routeReflectors = yield* Effect.forEach(routeSpaces, (namespace) =>
        makeReflector(httpRoutes, { ...options, namespace, labelSelector: scope.ingressLabelSelector }))
      yield* Ref.set(running, [...gatewayReflectors, ...routeReflectors])
      for (const r of gatewayReflectors) yield* Effect.forkScoped(Stream.runForEachChunk(r.events, (e) => apply(fresh.gateway, e)))
      for (const r of routeReflectors) yield* Effect.forkScoped(Stream.runForEachChunk(r.events, (e) => apply(fresh.httproute, e)))
      // The first sync waits for their lists, but not forever: without the RBAC for them (an agent
      // upgraded before its ClusterRole) the Ingresses still get routed; the watch warnings say why.
      const listed = Effect.zipRight(Deferred.await(fresh.gateway.synced), Deferred.await(fresh.httproute.synced))
      const waited = yield* Effect.timeoutTo(listed, { duration: gatewayListWait, onSuccess: () => true, onTimeout: () => false })
      if (!waited) yield* Effect.logWarning("Gateways and HTTPRoutes not listed yet: syncing without them; they follow once listed")
      yield* Deferred.succeed(ready, undefined)
      return yield* Effect.never
    }).pipe(Effect.ensuring(Ref.set(running, [])))))
  })

  const stop = Effect.gen(function* () {
    yield* FiberHandle.clear(watching)
    const gone = current
    current = undefined
    if (gone === undefined) return
    yield* PubSub.publishAll(changes, [
      ...[...gone.gateway.objects.keys()].map((key): Change => ({ kind: "gateway", key })),
      ...[...gone.httproute.objects.keys()].map((key): Change => ({ kind: "httproute", key }))
    ])
    yield* Effect.logInfo("the cluster no longer serves the Gateway API: stopped watching Gateways and HTTPRoutes")
  })

  const discover = Effect.gen(function* () {
    const served = yield* api.serves(gatewayApi).pipe(
      Effect.tapError((e) => Effect.logDebug("Gateway API discovery failed; asked again later").pipe(Effect.annotateLogs({ error: e.message }))),
      Effect.orElseSucceed(() => current !== undefined))
    if (served && current === undefined) yield* start
    if (!served) {
      yield* stop
      yield* Effect.logDebug("the cluster does not serve the Gateway API").pipe(Effect.annotateLogs({ next_check: Duration.format(interval) }))
      yield* Deferred.succeed(ready, undefined)
    }
  })
  yield* Effect.forkScoped(Effect.forever(Effect.zipRight(discover, Effect.sleep(interval))))

  return {
    ready: Deferred.await(ready),
    reflectors: Ref.get(running),
    objects: () => ({ gateways: current?.gateway.objects ?? noObjects, httpRoutes: current?.httproute.objects ?? noObjects })
  }
})

/** Decodes an object; one that does not decode is reported and treated as absent. */
const decodeOrReport = <A>(slot: Slot<A>, key: string, object: KubeObject): Effect.Effect<Option.Option<A>> => {
  const decoded = slot.decode(object)
  if (decoded._tag === "Right") return Effect.succeed(Option.some(decoded.right))
  return Effect.logWarning("object skipped: it does not decode").pipe(
    Effect.annotateLogs({ kind: slot.kind, key, resourceVersion: object.metadata.resourceVersion ?? "", reason: decoded.left }),
    Effect.as(Option.none()))
}
