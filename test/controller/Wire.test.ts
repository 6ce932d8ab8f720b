import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, Schema } from "effect"
import {
  RegisterRouteRequest, SyncIngressesRequest, SyncIngressesResponse, syncWire, UnregisterRouteRequest
} from "../../src/controller/Wire.js"

// Literal bodies with the controller API's field names, in its order, every field present.
const register = `{"hostname":"shop.example.com","cluster_uuid":"6f1c2d3e","namespace":"shop","service_name":"storefront",` +
  `"service_port":8080,"ingress_name":"shop","path":"/","path_type":"Prefix","tls":true,"annotations":{},` +
  `"public_endpoint":"203.0.113.45:80","routing_mode":"direct"}`
const sync = `{"cluster_uuid":"6f1c2d3e","public_endpoint":"","routing_mode":"tunnel","ingresses":[{"namespace":"shop",` +
  `"ingress_name":"shop","annotations":{"a":"b"},"rules":[{"host":"shop.example.com","tls":false,"paths":[{"path":"/api",` +
  `"path_type":"Exact","service_name":"api","service_port":9090}]}]}]}`
const emptySync = `{"cluster_uuid":"6f1c2d3e","public_endpoint":"","routing_mode":"tunnel","ingresses":[]}`
const unregister = `{"hostname":"shop.example.com","cluster_uuid":"6f1c2d3e"}`

const roundTrip = <A, I>(schema: Schema.Schema<A, I>, json: string) =>
  JSON.stringify(Schema.encodeSync(schema)(Schema.decodeUnknownSync(schema)(JSON.parse(json))))

describe("wire schemas", () => {
  it.each([
    ["register", (json: string) => roundTrip(RegisterRouteRequest, json), register],
    ["sync", (json: string) => roundTrip(SyncIngressesRequest, json), sync],
    ["empty sync", (json: string) => roundTrip(SyncIngressesRequest, json), emptySync],
    ["unregister", (json: string) => roundTrip(UnregisterRouteRequest, json), unregister]
  ])("%s round-trips byte for byte", (_name, trip, json) => {
    expect(trip(json)).toBe(json)
  })

  it("a sync's wire JSON built directly is the schema's encoding, byte for byte", () => {
    const encode = Schema.encodeSync(SyncIngressesRequest)
    FastCheck.assert(FastCheck.property(Arbitrary.make(SyncIngressesRequest), (request) => {
      expect(JSON.stringify(syncWire(request))).toBe(JSON.stringify(encode(request)))
    }), { numRuns: 200 })
    expect(JSON.stringify(syncWire(Schema.decodeUnknownSync(SyncIngressesRequest)(JSON.parse(sync))))).toBe(sync)
  })

  it("constructs camelCase and encodes snake_case", () => {
    const request = new UnregisterRouteRequest({ hostname: "shop.example.com", clusterUuid: "6f1c2d3e" })
    expect(JSON.stringify(Schema.encodeSync(UnregisterRouteRequest)(request))).toBe(unregister)
  })

  it.each([
    ["a missing field", register.replace(`"tls":true,`, "")],
    ["a camelCase key", register.replace("service_name", "serviceName")],
    ["a string port", register.replace("8080", `"8080"`)],
    ["an unknown routing mode", register.replace(`"direct"`, `"proxy"`)],
    ["a port out of range", register.replace("8080", "70000")]
  ])("rejects a register body with %s", (_title, json) => {
    expect(Either.isLeft(Schema.decodeUnknownEither(RegisterRouteRequest)(JSON.parse(json)))).toBe(true)
  })

  it("reads sync conflicts, absent meaning none", () => {
    expect(Schema.decodeUnknownSync(SyncIngressesResponse)({})).toEqual({ conflicts: [] })
    expect(Schema.decodeUnknownSync(SyncIngressesResponse)({ conflicts: ["a.example.com"] })).toEqual({ conflicts: ["a.example.com"] })
  })
})
