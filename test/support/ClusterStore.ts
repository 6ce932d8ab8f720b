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
