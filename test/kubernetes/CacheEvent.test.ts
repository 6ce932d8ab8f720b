import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { applyWatchEvent, replaceAll, type ObjectCache } from "../../src/kubernetes/CacheEvent.js"
import type { KubeObject } from "../../src/kubernetes/KubeObject.js"

const object = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: "x", resourceVersion: rv }, spec: { rules: [], note: "x".repeat(100) } })

describe("the reflector's cache", () => {
  it("emits objects as received but keeps only their identity", () => {
    const cache: ObjectCache = new Map()
    const [added] = replaceAll(cache, [object("a", "1")])
    expect(added?._tag === "Added" && added.object).toEqual(object("a", "1"))
    expect(cache.get("x/a")).toEqual({ metadata: { name: "a", namespace: "x", resourceVersion: "1" } })
  })

  it("a relist emits tombstones (identity only) first, then adds, then updates of changed versions only", () => {
    const cache: ObjectCache = new Map()
    replaceAll(cache, [object("gone", "1"), object("same", "1"), object("changed", "1")])
    const events = replaceAll(cache, [object("same", "1"), object("changed", "2"), object("new", "1")])
    expect(events.map((e) => (e._tag === "Synced" ? e._tag : `${e._tag} ${e.key}`))).toEqual(["Deleted x/gone", "Updated x/changed", "Added x/new"])
    expect(events[0]).toMatchObject({ finalStateUnknown: true, object: { metadata: { name: "gone", namespace: "x", resourceVersion: "1" } } })
  })

  it("a watched delete of an unknown key changes nothing", () => {
    expect(applyWatchEvent(new Map(), "DELETED", object("a", "1"))).toEqual(Option.none())
  })
})
