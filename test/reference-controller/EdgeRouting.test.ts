import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { RegisterRouteRequest } from "../../src/controller/Wire.js"
import type { PathType } from "../../src/domain/Route.js"
import { findRoute, hostOf } from "../../src/reference-controller/EdgeRouting.js"
import { emptyRegistry, register, type RegistryState } from "../../src/reference-controller/Registry.js"

const route = (hostname: string, path: string, pathType: PathType, serviceName = `${hostname}${path}`) => new RegisterRouteRequest({
  hostname, clusterUuid: "c", namespace: "default", serviceName, servicePort: 80, ingressName: "i", path, pathType, tls: false,
  annotations: {}, publicEndpoint: "", routingMode: "tunnel"
})

const registry = (...routes: ReadonlyArray<RegisterRouteRequest>): RegistryState =>
  routes.reduce((state, r) => Either.getOrThrow(register(state, r)), emptyRegistry)

const state = registry(
  route("shop.example.com", "/", "Prefix", "root"),
  route("shop.example.com", "/api/", "Prefix", "api"),
  route("shop.example.com", "/api/v2", "ImplementationSpecific", "api-v2"),
  route("shop.example.com", "/api", "Exact", "api-exact"),
  route("*.example.com", "/", "Prefix", "wildcard"),
  route("docs.example.com", "/guide/", "Prefix", "guide")
)

describe("edge routing", () => {
  it.each([
    ["shop.example.com", "/", "root"],
    ["shop.example.com", "/cart?x=1", "root"],
    ["shop.example.com", "/api", "api-exact"],
    ["shop.example.com", "/api/", "api"],
    ["shop.example.com", "/api/orders", "api"],
    ["shop.example.com", "/apix", "root"],
    ["shop.example.com", "/api/v2/x", "api-v2"],
    ["SHOP.example.com.:8000", "/api/orders", "api"],
    ["blog.example.com", "/", "wildcard"],
    ["a.blog.example.com", "/", undefined],
    ["example.com", "/", undefined],
    ["docs.example.com", "/guide", "guide"],
    ["docs.example.com", "/guide/intro", "guide"],
    ["docs.example.com", "/other", undefined]
  ] as const)("%s%s → %s", (host, target, expected) => {
    expect(Option.getOrUndefined(findRoute(state, host, target))?.serviceName).toBe(expected)
  })

  it("reads a Host header's hostname", () => {
    expect(hostOf("Shop.Example.com:8443")).toBe("shop.example.com")
    expect(hostOf("[::1]:80")).toBe("::1")
  })
})
