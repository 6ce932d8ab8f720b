/**
 * An in-memory KubernetesApi over a ClusterStore, deterministic under TestClock, with a control
 * handle to change objects, inject failures and read the requests it served.
 */
import { Effect, Either, Layer, Queue, Ref, Stream } from "effect"
import type { Lease, LeaseRecord } from "../../src/domain/LeaderElection.js"
import { decodeLease } from "../../src/kubernetes/Lease.js"
import { KubernetesApi, type ListOptions, type ListPage, type WatchOptions } from "../../src/kubernetes/KubernetesApi.js"
import { KubernetesApiError, kindOfStatus } from "../../src/kubernetes/KubernetesError.js"
import type { WatchEvent } from "../../src/kubernetes/KubeObject.js"
import { gatewayApi, type Resource } from "../../src/kubernetes/Resources.js"
import { makeClusterStore, type ClusterStore, type Json, type LeaseRefusal, type StoredEvent, type StoredLease } from "./ClusterStore.js"

/** A scripted failure for the next list or watch of a resource. */
export type Fault =
  | { readonly kind: "status"; readonly status: number; readonly retryAfterMillis?: number }
  | { readonly kind: "closeAfter"; readonly events: number }
  | { readonly kind: "killAfter"; readonly events: number }
  | { readonly kind: "garbledAfter"; readonly events: number }
  | { readonly kind: "errorEventAfter"; readonly events: number; readonly code: number }
  | { readonly kind: "silent" }
  | { readonly kind: "endless" }

export interface FakeControl {
  readonly store: ClusterStore
  /** Queues `fault` for the next `op` on `resource`. */
  readonly inject: (op: "list" | "watch", resource: Resource, ...faults: ReadonlyArray<Fault>) => Effect.Effect<void>
  /** From now on every request fails as if the network were cut (a crashed replica reaches nothing). */
  readonly sever: Effect.Effect<void>
  /** Every request served, as `list ingresses rv=… limit=… continue=…` / `watch ingresses rv=…`. */
  readonly requests: Effect.Effect<ReadonlyArray<string>>
  readonly count: (prefix: string) => Effect.Effect<number>
  /** Whether discovery says the Gateway API is served (off at first). */
  readonly serveGatewayApi: (served: boolean) => Effect.Effect<void>
}

const error = (operation: string, status: number, retryAfterMillis?: number) =>
  new KubernetesApiError({ kind: kindOfStatus(status), operation, status, message: `HTTP ${status}`, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })

const toWatchEvent = (event: StoredEvent): WatchEvent => ({ type: event.type, object: event.object })

/** Applies a watch fault to the stream of events a healthy watch would deliver. */
/** A BOOKMARK at the store's current revision every 60 s, as a real server sends when asked. */
const bookmarks = (store: ClusterStore): Stream.Stream<WatchEvent> =>
  Stream.repeatEffect(Effect.sleep("60 seconds").pipe(
    Effect.map((): WatchEvent => ({ type: "BOOKMARK", object: { metadata: { resourceVersion: store.revision() } } }))))

const faulty = (
  store: ClusterStore,
  operation: string,
  events: Stream.Stream<WatchEvent>,
  fault: Exclude<Fault, { readonly kind: "status" }> | undefined
): Stream.Stream<WatchEvent, KubernetesApiError> => {
  if (fault === undefined) return events
  switch (fault.kind) {
    case "closeAfter":
      return Stream.take(events, fault.events)
    case "killAfter":
      return Stream.concat(Stream.take(events, fault.events), Stream.fail(new KubernetesApiError({ kind: "Network", operation, message: "socket hang up" })))
    case "garbledAfter":
      return Stream.concat(Stream.take(events, fault.events), Stream.fail(new KubernetesApiError({ kind: "BadResponse", operation, message: "unparseable watch line: {\"type\":\"MODI" })))
    case "errorEventAfter":
      return Stream.concat(Stream.take(events, fault.events), Stream.make<Array<WatchEvent>>({ type: "ERROR", status: { code: fault.code, reason: "Expired", message: "too old resource version" } }))
    case "silent":
      return Stream.never
    case "endless":
      return bookmarks(store)
  }
}

const specOf = (record: LeaseRecord): Json => ({ ...record })
const leaseOf = (stored: StoredLease): Lease =>
  Either.getOrThrow(decodeLease(JSON.stringify({ metadata: { resourceVersion: stored.resourceVersion }, spec: stored.spec })))
/** A lease write's outcome as the real API answers it: the stored lease, or the refusal's status. */
const written = (operation: string, outcome: StoredLease | LeaseRefusal) =>
  "status" in outcome
    ? Effect.fail(new KubernetesApiError({ kind: kindOfStatus(outcome.status), operation, status: outcome.status, message: outcome.message }))
    : Effect.succeed(leaseOf(outcome))

/** A fresh fake cluster: `layer` provides KubernetesApi, `control` drives it. */
export const makeFakeKubernetes = (store: ClusterStore = makeClusterStore()) => Effect.gen(function* () {
  const faults = yield* Ref.make<ReadonlyArray<{ readonly key: string; readonly fault: Fault }>>([])
  const requests = yield* Ref.make<ReadonlyArray<string>>([])
  const snapshots = new Map<string, ReadonlyArray<unknown>>()
  const severed = yield* Ref.make(false)
  const gatewayApiServed = yield* Ref.make(false)
  const reachable = <A, R>(operation: string, effect: Effect.Effect<A, KubernetesApiError, R>): Effect.Effect<A, KubernetesApiError, R> =>
    Effect.flatMap(Ref.get(severed), (cut): Effect.Effect<A, KubernetesApiError, R> =>
      cut ? Effect.fail(new KubernetesApiError({ kind: "Network", operation, message: "connect ECONNREFUSED" })) : effect)
  const takeFault = (key: string) => Ref.modify(faults, (all): readonly [Fault | undefined, ReadonlyArray<{ readonly key: string; readonly fault: Fault }>] => {
    const index = all.findIndex((f) => f.key === key)
    return index < 0 ? [undefined, all] : [all[index]?.fault, [...all.slice(0, index), ...all.slice(index + 1)]]
  })

  const list = (resource: Resource, options: ListOptions) => Effect.gen(function* () {
    yield* Ref.update(requests, (r) => [...r, `list ${resource.plural} rv=${options.resourceVersion ?? ""} limit=${options.limit ?? ""} continue=${options.continueToken ?? ""}`])
    const fault = yield* takeFault(`list ${resource.plural}`)
    if (fault?.kind === "status") return yield* error(`list ${resource.plural}`, fault.status, fault.retryAfterMillis)
    const snapshot = options.continueToken === undefined
      ? store.list(resource, options.namespace)
      : { resourceVersion: options.continueToken.split(":")[0] ?? "", items: snapshots.get(options.continueToken) ?? [] }
    const limit = options.limit ?? Infinity
    const items = snapshot.items.slice(0, limit)
    const rest = snapshot.items.slice(limit)
    const token = rest.length > 0 ? `${snapshot.resourceVersion}:${snapshots.size}` : undefined
    if (token !== undefined) snapshots.set(token, rest)
    return { resourceVersion: snapshot.resourceVersion, continueToken: token, items } satisfies ListPage
  })

  const watch = (resource: Resource, options: WatchOptions) => {
    const operation = `watch ${resource.plural}`
    return Effect.gen(function* () {
      yield* Ref.update(requests, (r) => [...r, `${operation} rv=${options.resourceVersion}`])
      const fault = yield* takeFault(operation)
      const live = yield* Queue.unbounded<StoredEvent>()
      // Replay and subscription happen in one synchronous step: no change falls between them.
      const backlog = store.changesSince(resource, options.namespace, Number(options.resourceVersion))
      const unsubscribe = store.subscribe((event) => {
        if (event.resource === resource.plural && (options.namespace === undefined || event.namespace === options.namespace)) {
          Queue.unsafeOffer(live, event)
        }
      })
      yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))
      const events = backlog === "expired"
        ? Stream.make<Array<WatchEvent>>({ type: "ERROR", status: { code: 410, reason: "Expired", message: "too old resource version" } })
        : Stream.concat(Stream.fromIterable(backlog), Stream.fromQueue(live)).pipe(
          Stream.map(toWatchEvent),
          Stream.merge(options.allowWatchBookmarks ? bookmarks(store) : Stream.empty),
          Stream.interruptWhen(Effect.sleep(`${options.timeoutSeconds} seconds`)))
      if (fault?.kind === "status") return yield* error(operation, fault.status, fault.retryAfterMillis)
      return faulty(store, operation, events, fault)
    })
  }

  const control: FakeControl = {
    store,
    inject: (op, resource, ...added) => Ref.update(faults, (all) => [...all, ...added.map((fault) => ({ key: `${op} ${resource.plural}`, fault }))]),
    sever: Ref.set(severed, true),
    requests: Ref.get(requests),
    count: (prefix) => Effect.map(Ref.get(requests), (all) => all.filter((r) => r.startsWith(prefix)).length),
    serveGatewayApi: (served) => Ref.set(gatewayApiServed, served)
  }
  const api = KubernetesApi.of({
    list: (resource, options) => reachable("list", list(resource, options)),
    watch: (resource, options) => reachable("watch", watch(resource, options)),
    namespaceUid: (name) => Effect.succeed(`uid-of-${name}`),
    version: Effect.succeed("v1.31.0"),
    serves: (groupVersion) => reachable("discover", Effect.map(Ref.get(gatewayApiServed), (on) => on && groupVersion === gatewayApi)),
    getLease: (namespace, name) => reachable("get lease", Effect.gen(function* () {
      yield* Ref.update(requests, (r) => [...r, `get lease ${namespace}/${name}`])
      const found = store.leases.get(namespace, name)
      return found === undefined ? undefined : leaseOf(found)
    })),
    createLease: (namespace, name, record) =>
      reachable("create lease", Effect.suspend(() => written(`create lease ${namespace}/${name}`, store.leases.create(namespace, name, specOf(record))))),
    updateLease: (namespace, name, record, resourceVersion) =>
      reachable("update lease", Effect.suspend(() => written(`update lease ${namespace}/${name}`, store.leases.update(namespace, name, specOf(record), resourceVersion))))
  })
  return { layer: Layer.succeed(KubernetesApi, api), control }
})
