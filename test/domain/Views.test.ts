import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { decodeIngress, decodeService } from "../../src/domain/Views.js"
import { ingress, service } from "../support/Builders.js"

describe("views", () => {
  it("decode the fields we read and ignore the rest", () => {
    const decoded = decodeIngress({ ...ingress({ host: "a.example.com" }), status: { loadBalancer: {} }, extra: 1 })
    expect(Either.isRight(decoded)).toBe(true)
  })

  it("treat a missing spec as empty", () => {
    expect(Either.map(decodeIngress({ metadata: { name: "x", namespace: "y" } }), (i) => i.spec)).toEqual(Either.right({}))
  })

  it.each([
    ["no metadata", { spec: {} }],
    ["a numeric name", { metadata: { name: 7 } }],
    ["rules that are not a list", { metadata: { name: "x" }, spec: { rules: "a.example.com" } }],
    ["a string port number", { metadata: { name: "x" }, spec: { rules: [{ host: "a", http: { paths: [{ backend: { service: { name: "s", port: { number: "80" } } } }] } }] } }],
    ["not an object", "ingress"]
  ])("reject an Ingress with %s, with a one-line reason", (_title, raw) => {
    const decoded = decodeIngress(raw)
    expect(Either.isLeft(decoded)).toBe(true)
    expect(Either.isLeft(decoded) && decoded.left).not.toContain("\n")
  })

  it("reject a Service whose port is not an integer", () => {
    expect(Either.isLeft(decodeService(service({ ports: [{ port: 80.5 }] })))).toBe(true)
  })
})
