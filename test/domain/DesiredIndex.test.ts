import { describe, expect, it } from "@effect/vitest"
import { selectAll } from "../../src/domain/IngressSelection.js"
import type { IngressView, ServiceView } from "../../src/domain/Views.js"
import { desired, makeDesiredIndex, refresh, routesOfHosts, staleIngresses, type ClusterSnapshot } from "../../src/domain/DesiredIndex.js"
import { backend, ingressView, path, rule, serviceView } from "../support/Builders.js"

const snapshotOf = (ingresses: ReadonlyArray<IngressView>, services: ReadonlyArray<ServiceView> = []): ClusterSnapshot => ({
  ingresses: new Map(ingresses.map((i) => [`${i.metadata.namespace}/${i.metadata.name}`, i])),
  services: new Map(services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s])),
  ingressClasses: new Map(),
  gateways: new Map(),
  httpRoutes: new Map()
})
const owner = (cache: ReturnType<typeof makeDesiredIndex>, host: string) => routesOfHosts(cache, [host]).map((r) => `${r.ingressName}${r.path}`)

describe("DesiredIndex", () => {
  it("reports the hostnames a change touched, old and new", () => {
    const cache = makeDesiredIndex()
    refresh(cache, snapshotOf([ingressView({ name: "a", host: "old.example.com" })]), selectAll, "all")
    const moved = snapshotOf([ingressView({ name: "a", host: "new.example.com" })])
    expect([...refresh(cache, moved, selectAll, staleIngresses([{ kind: "ingress", key: "default/a" }]))].sort())
      .toEqual(["new.example.com", "old.example.com"])
    expect([owner(cache, "old.example.com"), owner(cache, "new.example.com")]).toEqual([[], ["a/"]])
  })

  it("hands a contested route to the next claimant when the winner goes", () => {
    const cache = makeDesiredIndex()
    const older = ingressView({ name: "older", host: "x.example.com", createdAt: "2026-01-01T00:00:00Z" })
    const newer = ingressView({ name: "newer", host: "x.example.com", createdAt: "2026-02-01T00:00:00Z" })
    refresh(cache, snapshotOf([older, newer]), selectAll, "all")
    expect(owner(cache, "x.example.com")).toEqual(["older/"])
    refresh(cache, snapshotOf([newer]), selectAll, staleIngresses([{ kind: "ingress", key: "default/older" }]))
    expect(owner(cache, "x.example.com")).toEqual(["newer/"])
    expect(desired(cache).routes.map((r) => r.ingressName)).toEqual(["newer"])
  })

  it("a Service change re-resolves the named ports of its namespace", () => {
    const cache = makeDesiredIndex()
    const ing = ingressView({ name: "a", rules: [rule("a.example.com", path("/", backend("app", "http")))] })
    refresh(cache, snapshotOf([ing]), selectAll, "all")
    expect(owner(cache, "a.example.com")).toEqual([])
    const app = serviceView({ name: "app", namespace: "default", type: "ClusterIP", ports: [{ name: "http", port: 8080 }] })
    const touched = refresh(cache, snapshotOf([ing], [app]), selectAll, staleIngresses([{ kind: "service", key: "default/app" }]))
    expect([...touched]).toEqual(["a.example.com"])
    expect(routesOfHosts(cache, ["a.example.com"]).map((r) => r.servicePort)).toEqual([8080])
  })
})
