import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { keyOf, normalize, parseWatchLine } from "../../src/kubernetes/KubeObject.js"
import { ingressClasses, ingresses } from "../../src/kubernetes/Resources.js"

describe("normalize", () => {
  it("keeps every field and fills in kind and apiVersion", () => {
    const raw = {
      metadata: { name: "a", namespace: "x", resourceVersion: "7", uid: "u", creationTimestamp: "2026-01-01T00:00:00Z", labels: { l: "1" }, annotations: { a: "2" } },
      spec: { rules: [] }
    }
    expect(normalize(ingresses, raw)).toEqual(Option.some({ ...raw, kind: "Ingress", apiVersion: "networking.k8s.io/v1" }))
  })

  it("skips objects without metadata.name", () => {
    expect(normalize(ingresses, { metadata: { namespace: "x" } })).toEqual(Option.none())
    expect(normalize(ingresses, "nope")).toEqual(Option.none())
  })

  it("keys namespaced objects by namespace/name and cluster-scoped ones by name", () => {
    const namespaced = Option.getOrThrow(normalize(ingresses, { metadata: { name: "a", namespace: "x" } }))
    const clusterScoped = Option.getOrThrow(normalize(ingressClasses, { metadata: { name: "nginx" } }))
    expect([keyOf(namespaced), keyOf(clusterScoped)]).toEqual(["x/a", "nginx"])
  })
})

describe("parseWatchLine", () => {
  it.each([
    [`{"type":"ADDED","object":{"metadata":{"name":"a"}}}`, "ADDED"],
    [`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}`, "BOOKMARK"],
    [`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}`, "ERROR"],
    [`{"type":"SOMETHING_NEW","object":{}}`, "UNKNOWN"]
  ])("reads %s as %s", (line, type) => {
    expect(Either.map(parseWatchLine(line), (e) => e.type)).toEqual(Either.right(type))
  })

  it("reads an ERROR's Status", () => {
    expect(parseWatchLine(`{"type":"ERROR","object":{"code":410,"reason":"Expired","message":"too old"}}`))
      .toEqual(Either.right({ type: "ERROR", status: { code: 410, reason: "Expired", message: "too old" } }))
  })

  it.each([`{"type":"MODI`, `{"object":{}}`, `not json`, `[]`])("treats %j as a stream failure", (line) => {
    expect(Either.isLeft(parseWatchLine(line))).toBe(true)
  })
})
