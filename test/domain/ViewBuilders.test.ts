/**
 * The fast builders agree with the schemas: the same view for every well-formed object, and never
 * a view for an object the schema refuses.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import { buildIngressView, buildServiceView } from "../../src/domain/ViewBuilders.js"
import { IngressView, ServiceView } from "../../src/domain/Views.js"
import { ingress, service } from "../support/Builders.js"

const agree = <A, I>(schema: Schema.Schema<A, I>, build: (raw: unknown) => A | undefined) => (raw: unknown) => {
  const decoded = Schema.decodeUnknownEither(schema)(raw)
  const built = build(raw)
  if (Either.isLeft(decoded)) expect(built).toBeUndefined()
  else if (built !== undefined) expect(built).toEqual(decoded.right)
}

/** Any JSON-like value where the schema expects a string or a number, to find what the builders let through. */
const corrupt = FastCheck.oneof(FastCheck.constant(null), FastCheck.integer(), FastCheck.double(), FastCheck.string(), FastCheck.boolean(), FastCheck.constant([]), FastCheck.constant({}))

/** `object` with the value at one random path of it replaced. */
const corrupted = (object: unknown) => FastCheck.tuple(FastCheck.nat(), corrupt).map(([seed, value]) => {
  const copy: unknown = structuredClone(object)
  const paths: Array<ReadonlyArray<string | number>> = []
  const walk = (node: unknown, at: ReadonlyArray<string | number>) => {
    if (typeof node !== "object" || node === null) return
    for (const [key, child] of Object.entries(node)) {
      const next = [...at, Array.isArray(node) ? Number(key) : key]
      paths.push(next)
      walk(child, next)
    }
  }
  walk(copy, [])
  const target = paths[seed % Math.max(1, paths.length)] ?? []
  const parent = target.slice(0, -1).reduce<unknown>((node, key) => Reflect.get(node as object, key), copy)
  if (typeof parent === "object" && parent !== null && target.length > 0) Reflect.set(parent, target[target.length - 1]!, value)
  return copy
})

describe("view builders", () => {
  it("build what the Ingress schema decodes, for any object of the encoded shape", () => {
    FastCheck.assert(FastCheck.property(Arbitrary.make(Schema.encodedSchema(IngressView)), agree(IngressView, buildIngressView)), { numRuns: 500 })
  })

  it("build what the Service schema decodes, for any object of the encoded shape", () => {
    FastCheck.assert(FastCheck.property(Arbitrary.make(Schema.encodedSchema(ServiceView)), agree(ServiceView, buildServiceView)), { numRuns: 500 })
  })

  it("give up wherever the schema refuses a corrupted object", () => {
    const full = ingress({ rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] })
    FastCheck.assert(FastCheck.property(corrupted({ ...full, spec: { ...(full["spec"] as object), tls: [{ hosts: ["a.example.com"] }] } }), agree(IngressView, buildIngressView)), { numRuns: 1000 })
    FastCheck.assert(FastCheck.property(corrupted(service({ lb: [{ ip: "203.0.113.1", hostname: "lb.example.com" }] })), agree(ServiceView, buildServiceView)), { numRuns: 1000 })
  })

  it("build a view for the common objects (the fast path is taken)", () => {
    expect(buildIngressView(ingress({ host: "a.example.com" }))).toBeDefined()
    expect(buildServiceView(service())).toBeDefined()
  })
})
