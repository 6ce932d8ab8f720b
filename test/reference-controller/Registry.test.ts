import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { RegisterRouteRequest, SyncIngress, SyncIngressesRequest, SyncPath, SyncRule } from "../../src/controller/Wire.js"
import { emptyRegistry, register, routesOf, sync, unregister, type RegistryState } from "../../src/reference-controller/Registry.js"

const route = (clusterUuid: string, hostname: string, path = "/", servicePort = 80) => new RegisterRouteRequest({
  hostname, clusterUuid, namespace: "ns", serviceName: "web", servicePort, ingressName: "web", path,
  pathType: "Prefix", tls: false, annotations: {}, publicEndpoint: "", routingMode: "tunnel"
})
const syncOf = (clusterUuid: string, hosts: ReadonlyArray<string>) => new SyncIngressesRequest({
  clusterUuid, publicEndpoint: "", routingMode: "tunnel",
  ingresses: [new SyncIngress({ namespace: "ns", ingressName: "web", annotations: {}, rules: hosts.map((host) =>
    new SyncRule({ host, tls: false, paths: [new SyncPath({ path: "/", pathType: "Prefix", serviceName: "web", servicePort: 80 })] })) })]
})
const hosts = (state: RegistryState, cluster: string) => routesOf(state, cluster).map((r) => `${r.hostname}${r.path}:${r.servicePort}`)
const registered = (...routes: ReadonlyArray<RegisterRouteRequest>) =>
  routes.reduce((state, r) => Either.getOrThrow(register(state, r)), emptyRegistry)

describe("Registry", () => {
  it("register is an upsert keyed by hostname and path", () => {
    const state = registered(route("a", "x.example.com", "/"), route("a", "x.example.com", "/api"), route("a", "x.example.com", "/", 81))
    expect(hosts(state, "a")).toEqual(["x.example.com/:81", "x.example.com/api:80"])
  })

  it("another cluster's register for an owned hostname is refused", () => {
    const result = register(registered(route("a", "x.example.com")), route("b", "x.example.com", "/other"))
    expect(Either.isLeft(result) && result.left).toEqual({ hostname: "x.example.com", owner: "a" })
  })

  it("unregister removes every route of the hostname, is idempotent, and refuses another cluster's", () => {
    const state = registered(route("a", "x.example.com", "/"), route("a", "x.example.com", "/api"), route("a", "y.example.com"))
    const after = Either.getOrThrow(unregister(state, "a", "x.example.com"))
    expect(hosts(after, "a")).toEqual(["y.example.com/:80"])
    expect(Either.isRight(unregister(after, "a", "x.example.com"))).toBe(true)
    expect(Either.isLeft(unregister(after, "b", "y.example.com"))).toBe(true)
  })

  it("sync replaces the cluster's set, keeps others', and reports their hostnames as conflicts", () => {
    const state = registered(route("a", "old.example.com"), route("b", "theirs.example.com"))
    const result = sync(state, syncOf("a", ["new.example.com", "theirs.example.com"]))
    expect(result.conflicts).toEqual(["theirs.example.com"])
    expect(hosts(result.state, "a")).toEqual(["new.example.com/:80"])
    expect(hosts(result.state, "b")).toEqual(["theirs.example.com/:80"])
  })

  it("an empty sync clears the cluster", () => {
    expect(hosts(sync(registered(route("a", "x.example.com")), syncOf("a", [])).state, "a")).toEqual([])
  })
})
