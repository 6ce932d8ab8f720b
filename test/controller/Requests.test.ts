import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { registerRequest, syncRequest, unregisterRequest } from "../../src/controller/Requests.js"
import { RegisterRouteRequest, SyncIngressesRequest, UnregisterRouteRequest } from "../../src/controller/Wire.js"
import { Route } from "../../src/domain/Route.js"

const route = (ingressName: string, hostname: string, path: string, tls = false) =>
  new Route({
    hostname, path, pathType: "Prefix", namespace: "shop", ingressName, serviceName: "web", servicePort: 80, tls,
    annotations: { owner: ingressName }
  })

const tunnel = { clusterUuid: "c-1", decision: { routingMode: "tunnel" as const, publicEndpoint: "" } }
const direct = { clusterUuid: "c-1", decision: { routingMode: "direct" as const, publicEndpoint: "203.0.113.45:80" } }

describe("request bodies", () => {
  it("a register body carries the route, the cluster and the routing decision", () => {
    expect(Schema.encodeSync(RegisterRouteRequest)(registerRequest(route("shop", "a.example.com", "/api", true), direct))).toEqual({
      hostname: "a.example.com", cluster_uuid: "c-1", namespace: "shop", service_name: "web", service_port: 80,
      ingress_name: "shop", path: "/api", path_type: "Prefix", tls: true, annotations: { owner: "shop" },
      public_endpoint: "203.0.113.45:80", routing_mode: "direct"
    })
  })

  it("an unregister body always carries the cluster", () => {
    expect(Schema.encodeSync(UnregisterRouteRequest)(unregisterRequest("a.example.com", tunnel)))
      .toEqual({ hostname: "a.example.com", cluster_uuid: "c-1" })
  })

  it("a sync groups routes by Ingress, then host, in sorted order", () => {
    const body = Schema.encodeSync(SyncIngressesRequest)(syncRequest([
      route("web", "b.example.com", "/"), route("api", "a.example.com", "/v2", true),
      route("api", "a.example.com", "/v1", true), route("api", "c.example.com", "/")
    ], tunnel))
    expect(body.routing_mode).toBe("tunnel")
    expect(body.public_endpoint).toBe("")
    expect(body.ingresses.map((i) => ({ name: i.ingress_name, annotations: i.annotations, rules: i.rules.map((r) => `${r.host} ${r.tls} ${r.paths.map((p) => p.path).join(",")}`) })))
      .toEqual([
        { name: "api", annotations: { owner: "api" }, rules: ["a.example.com true /v1,/v2", "c.example.com false /"] },
        { name: "web", annotations: { owner: "web" }, rules: ["b.example.com false /"] }
      ])
  })

  it("an empty route set is an empty sync, not no sync", () => {
    expect(Schema.encodeSync(SyncIngressesRequest)(syncRequest([], direct)))
      .toEqual({ cluster_uuid: "c-1", public_endpoint: "203.0.113.45:80", routing_mode: "direct", ingresses: [] })
  })
})
