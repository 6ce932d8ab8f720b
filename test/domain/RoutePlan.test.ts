import { describe, expect, it } from "@effect/vitest"
import { hostClaims, planRoutes } from "../../src/domain/RoutePlan.js"
import { route } from "../support/Builders.js"

const summary = (plan: ReturnType<typeof planRoutes>) => ({
  register: plan.register.map((r) => `${r.hostname}${r.path}`),
  unregister: plan.unregister,
  orphaned: plan.orphaned.map((r) => `${r.hostname}${r.path}`)
})

describe("planRoutes", () => {
  it.each([
    { title: "nothing registered: register everything",
      desired: [route("a.example.com"), route("b.example.com", "/x")], registered: [],
      expected: { register: ["a.example.com/", "b.example.com/x"], unregister: [], orphaned: [] } },
    { title: "an unchanged route produces no call",
      desired: [route("a.example.com", "/", { annotations: { k: "v" } })],
      registered: [route("a.example.com", "/", { annotations: { k: "v" } })],
      expected: { register: [], unregister: [], orphaned: [] } },
    { title: "a changed port, pathType, tls or annotation re-registers",
      desired: [route("a.example.com", "/", { servicePort: 81 }), route("b.example.com", "/", { pathType: "Exact" }),
        route("c.example.com", "/", { tls: true }), route("d.example.com", "/", { annotations: { k: "2" } })],
      registered: [route("a.example.com"), route("b.example.com"), route("c.example.com"),
        route("d.example.com", "/", { annotations: { k: "1" } })],
      expected: { register: ["a.example.com/", "b.example.com/", "c.example.com/", "d.example.com/"], unregister: [], orphaned: [] } },
    { title: "a host no route claims any more is unregistered once",
      desired: [route("b.example.com")], registered: [route("a.example.com"), route("a.example.com", "/api"), route("b.example.com")],
      expected: { register: [], unregister: ["a.example.com"], orphaned: [] } },
    { title: "a shared host stays while another Ingress still claims it",
      desired: [route("shared.example.com", "/b", { ingressName: "b" })],
      registered: [route("shared.example.com", "/a", { ingressName: "a" }), route("shared.example.com", "/b", { ingressName: "b" })],
      expected: { register: [], unregister: [], orphaned: ["shared.example.com/a"] } },
    { title: "a host moved to another Ingress re-registers without unregistering",
      desired: [route("a.example.com", "/", { ingressName: "new" })], registered: [route("a.example.com", "/", { ingressName: "old" })],
      expected: { register: ["a.example.com/"], unregister: [], orphaned: [] } },
    { title: "a changed host registers the new and unregisters the old",
      desired: [route("new.example.com")], registered: [route("old.example.com")],
      expected: { register: ["new.example.com/"], unregister: ["old.example.com"], orphaned: [] } }
  ])("$title", ({ desired, registered, expected }) => {
    expect(summary(planRoutes(desired, registered))).toEqual(expected)
  })
})

describe("hostClaims", () => {
  it("counts the routes claiming each host", () => {
    expect(hostClaims([route("a.example.com"), route("a.example.com", "/x"), route("b.example.com")]))
      .toEqual(new Map([["a.example.com", 2], ["b.example.com", 1]]))
  })
})
