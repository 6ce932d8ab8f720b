/**
 * What a reflector emits, and how its cache turns lists and watch events into them.
 */
import { Data, Option } from "effect"
import { keyOf, type KubeObject } from "./KubeObject.js"

/**
 * A change of the reflector's cache. `Added`, `Updated` and a watched `Deleted` carry the object
 * as received; `previous` and a relist's `Deleted` (`finalStateUnknown`: the delete itself was
 * missed) carry only the identity the cache keeps (name, namespace, resourceVersion), so route
 * removal must work from the key alone. `Synced` follows the first complete list.
 */
export type CacheEvent = Data.TaggedEnum<{
  Added: { readonly key: string; readonly object: KubeObject }
  Updated: { readonly key: string; readonly object: KubeObject; readonly previous: KubeObject }
  Deleted: { readonly key: string; readonly object: KubeObject; readonly finalStateUnknown: boolean }
  Synced: Record<never, never>
}>
export const CacheEvent = Data.taggedEnum<CacheEvent>()

/**
 * A reflector's objects by key, as identities only: the consumers keep the objects they need, and
 * a second full copy of every object here doubled the agent's memory. Owned and mutated by the
 * reflector's single fiber.
 */
export type ObjectCache = Map<string, KubeObject>

/** The part of an object the cache keeps. */
const identity = (object: KubeObject): KubeObject => ({
  metadata: {
    name: object.metadata.name,
    ...(object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace }),
    ...(object.metadata.resourceVersion === undefined ? {} : { resourceVersion: object.metadata.resourceVersion })
  }
})

const rvOf = (object: KubeObject): string | undefined => object.metadata.resourceVersion

/**
 * Replaces the cache with a complete list and returns the events that tell the difference:
 * tombstones for vanished keys first, then `Added` for new keys and `Updated` for keys whose
 * resourceVersion changed. Unchanged objects produce nothing.
 */
export const replaceAll = (cache: ObjectCache, items: ReadonlyArray<KubeObject>): ReadonlyArray<CacheEvent> => {
  const listed = new Map(items.map((object) => [keyOf(object), object]))
  const events: Array<CacheEvent> = []
  for (const [key, object] of cache) {
    if (!listed.has(key)) {
      cache.delete(key)
      events.push(CacheEvent.Deleted({ key, object, finalStateUnknown: true }))
    }
  }
  for (const [key, object] of listed) {
    const previous = cache.get(key)
    cache.set(key, identity(object))
    if (previous === undefined) events.push(CacheEvent.Added({ key, object }))
    else if (rvOf(previous) !== rvOf(object)) events.push(CacheEvent.Updated({ key, object, previous }))
  }
  return events
}

/** Applies one watch event; `None` when it changes nothing (a delete of an unknown key). */
export const applyWatchEvent = (
  cache: ObjectCache,
  type: "ADDED" | "MODIFIED" | "DELETED",
  object: KubeObject
): Option.Option<CacheEvent> => {
  const key = keyOf(object)
  const previous = cache.get(key)
  if (type === "DELETED") {
    if (previous === undefined) return Option.none()
    cache.delete(key)
    return Option.some(CacheEvent.Deleted({ key, object, finalStateUnknown: false }))
  }
  cache.set(key, identity(object))
  return Option.some(previous === undefined
    ? CacheEvent.Added({ key, object })
    : CacheEvent.Updated({ key, object, previous }))
}
