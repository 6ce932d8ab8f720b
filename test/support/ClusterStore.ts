/**
 * A behavioural model of the API server's storage, shared by the in-memory KubernetesApi and the
 * API-server simulator: one global revision counter, objects stamped with it, and a bounded
 * history of changes for watches to replay.
 */
import { apiVersionOf, type Resource } from "../../src/kubernetes/Resources.js"

export type Json = Record<string, unknown>

/** One change, as a watch sees it. */
export interface StoredEvent {
  readonly revision: number
  readonly resource: string
  readonly namespace: string | undefined
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly object: Json
}

const metaOf = (object: Json): Json => (typeof object["metadata"] === "object" && object["metadata"] !== null ? object["metadata"] as Json : {})
const keyOf = (object: Json): string => {
  const meta = metaOf(object)
  return meta["namespace"] === undefined ? String(meta["name"]) : `${String(meta["namespace"])}/${String(meta["name"])}`
}

/** A Lease as the API server stores it (the fields the election uses). */
export interface StoredLease {
  readonly namespace: string
  readonly name: string
  readonly resourceVersion: string
  readonly spec: Json
}

/** Why a lease request was refused: the status and reason the API server answers with. */
export interface LeaseRefusal {
  readonly status: 400 | 404 | 409
  readonly reason: "BadRequest" | "NotFound" | "AlreadyExists" | "Conflict"
  readonly message: string
}

/** Leases with the API server's optimistic concurrency: create of an existing name and a stale update are 409. */
export interface LeaseStore {
  readonly get: (namespace: string, name: string) => StoredLease | undefined
  readonly create: (namespace: string, name: string, spec: Json) => StoredLease | LeaseRefusal
  /** `resourceVersion` must be the current one. */
  readonly update: (namespace: string, name: string, spec: Json, resourceVersion: string | undefined) => StoredLease | LeaseRefusal
  /** Every write accepted, in order: `create|update namespace/name holder`. */
  readonly writes: () => ReadonlyArray<string>
}

// MicroTime: RFC 3339 with exactly six fractional digits, as the API server requires.
const microTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

const badTime = (spec: Json): LeaseRefusal | undefined => {
  for (const field of ["acquireTime", "renewTime"]) {
    const value = spec[field]
    if (value !== undefined && (typeof value !== "string" || !microTime.test(value))) {
      return { status: 400, reason: "BadRequest", message: `Lease in version "v1" cannot be handled as a Lease: spec.${field}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse` }
    }
  }
  return undefined
}

const makeLeaseStore = (nextRevision: () => string): LeaseStore => {
  const leases = new Map<string, StoredLease>()
  const log: Array<string> = []
  const store = (verb: string, namespace: string, name: string, spec: Json): StoredLease => {
    const lease = { namespace, name, spec, resourceVersion: nextRevision() }
    leases.set(`${namespace}/${name}`, lease)
    log.push(`${verb} ${namespace}/${name} ${String(spec["holderIdentity"] ?? "")}`)
    return lease
  }
  return {
    get: (namespace, name) => leases.get(`${namespace}/${name}`),
    create: (namespace, name, spec) => {
      if (leases.has(`${namespace}/${name}`)) return { status: 409, reason: "AlreadyExists", message: `leases.coordination.k8s.io "${name}" already exists` }
      return badTime(spec) ?? store("create", namespace, name, spec)
    },
    update: (namespace, name, spec, resourceVersion) => {
      const current = leases.get(`${namespace}/${name}`)
      if (current === undefined) return { status: 404, reason: "NotFound", message: `leases.coordination.k8s.io "${name}" not found` }
      if (resourceVersion !== current.resourceVersion) {
        return { status: 409, reason: "Conflict", message: `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again` }
      }
      return badTime(spec) ?? store("update", namespace, name, spec)
    },
    writes: () => [...log]
  }
}

export interface ClusterStore {
  /** The current revision, as the list resourceVersion. */
  readonly revision: () => string
  /** Creates or replaces an object; returns the stored copy. */
  readonly upsert: (resource: Resource, object: Json) => Json
  /** Deletes an object; the DELETED event carries its last state with a new revision. */
  readonly remove: (resource: Resource, namespace: string | undefined, name: string) => void
  /** The current objects, sorted by namespace and name, with the list's resourceVersion. */
  readonly list: (resource: Resource, namespace?: string) => { readonly resourceVersion: string; readonly items: ReadonlyArray<Json> }
  /** Changes after `since`, or `expired` when the history no longer reaches back that far. */
  readonly changesSince: (resource: Resource, namespace: string | undefined, since: number) => ReadonlyArray<StoredEvent> | "expired"
  /** Calls `listener` on every change from now on; returns the unsubscribe function. */
  readonly subscribe: (listener: (event: StoredEvent) => void) => () => void
  /** Drops the whole history: every watch from an older revision gets 410. */
  readonly compact: () => void
  /** Restarts the store's revisions at `base` (a "restarted server"), keeping the objects. */
  readonly rebase: (base: number) => void
  readonly leases: LeaseStore
}

/** A store starting at `base`, keeping at most `historyLimit` changes. */
export const makeClusterStore = (base = 1000, historyLimit = 100_000): ClusterStore => {
  let revision = base
  let oldestAvailable = base
  let history: Array<StoredEvent> = []
  const objects = new Map<string, Map<string, Json>>()
  const listeners = new Set<(event: StoredEvent) => void>()
  const bucket = (resource: Resource) => {
    const found = objects.get(resource.plural)
    if (found) return found
    const created = new Map<string, Json>()
    objects.set(resource.plural, created)
    return created
  }
  const record = (resource: Resource, type: StoredEvent["type"], object: Json) => {
    const namespace = metaOf(object)["namespace"]
    const event: StoredEvent = { revision, resource: resource.plural, namespace: typeof namespace === "string" ? namespace : undefined, type, object }
    history.push(event)
    if (history.length > historyLimit) {
      history = history.slice(history.length - historyLimit)
      oldestAvailable = history[0]?.revision ?? revision
    }
    for (const listener of listeners) listener(event)
  }
  const stamp = (resource: Resource, object: Json, previous: Json | undefined): Json => {
    revision += 1
    const meta = metaOf(object)
    return {
      ...object,
      kind: resource.kind,
      apiVersion: apiVersionOf(resource),
      metadata: {
        ...meta,
        uid: metaOf(previous ?? {})["uid"] ?? meta["uid"] ?? `uid-${revision}`,
        creationTimestamp: metaOf(previous ?? {})["creationTimestamp"] ?? meta["creationTimestamp"] ?? new Date(revision * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
        resourceVersion: String(revision)
      }
    }
  }
  return {
    leases: makeLeaseStore(() => String(++revision)),
    revision: () => String(revision),
    upsert: (resource, object) => {
      const key = keyOf(object)
      const previous = bucket(resource).get(key)
      const stored = stamp(resource, object, previous)
      bucket(resource).set(key, stored)
      record(resource, previous === undefined ? "ADDED" : "MODIFIED", stored)
      return stored
    },
    remove: (resource, namespace, name) => {
      const key = namespace === undefined ? name : `${namespace}/${name}`
      const previous = bucket(resource).get(key)
      if (previous === undefined) return
      bucket(resource).delete(key)
      revision += 1
      record(resource, "DELETED", { ...previous, metadata: { ...metaOf(previous), resourceVersion: String(revision) } })
    },
    list: (resource, namespace) => ({
      resourceVersion: String(revision),
      items: [...bucket(resource).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, object]) => object)
        .filter((object) => namespace === undefined || metaOf(object)["namespace"] === namespace)
    }),
    changesSince: (resource, namespace, since) =>
      since < oldestAvailable
        ? "expired"
        : history.filter((e) => e.revision > since && e.resource === resource.plural && (namespace === undefined || e.namespace === namespace)),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    compact: () => {
      history = []
      oldestAvailable = revision
    },
    rebase: (next) => {
      revision = next
      oldestAvailable = next
      history = []
    }
  }
}
