/**
 * The engine over the Gateway API as it comes and goes (discovery asked every interval), under
 * TestClock with the in-memory cluster.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { gateways, httpRoutes } from "../../src/kubernetes/Resources.js"
import { gateway, httpRoute } from "../support/GatewayBuilders.js"
import { at, startEngine } from "./support.js"

describe("RouteSync with the Gateway API", () => {
  it.scoped("routes HTTPRoutes once the API is served, and unregisters them when it goes away", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ discoveryInterval: Duration.minutes(1) })
      yield* t.controller.clear
      t.store.upsert(gateways, gateway({ addresses: ["203.0.113.7"] }))
      t.store.upsert(httpRoutes, httpRoute({ name: "shop", hostnames: ["shop.example.com"] }))
      yield* at(120_000)
      expect(yield* t.controller.lines).toEqual([])
      yield* t.control.serveGatewayApi(true)
      yield* at(60_000)
      const lines = yield* t.controller.lines
      expect(lines.some((l) => l.includes("shop.example.com"))).toBe(true)
      expect((yield* t.status).decision?.publicEndpoint).toBe("203.0.113.7:80")
      yield* t.controller.clear
      yield* t.control.serveGatewayApi(false)
      yield* at(60_000)
      expect((yield* t.controller.lines).filter((l) => l.startsWith("unregister"))).toEqual([expect.stringContaining("shop.example.com")])
    }))
})

describe("ClusterCache with the Gateway API forbidden", () => {
  it.scoped("the first sync waits for Gateways and HTTPRoutes at most 15 s, then goes on without them", () =>
    Effect.gen(function* () {
      const forbidden = Array.from({ length: 50 }, () => ({ kind: "status", status: 403 }) as const)
      const t = yield* startEngine({
        ingresses: [{ name: "web", host: "web.example.com" }], gatewayApi: true,
        listFaults: { gateways: forbidden }
      })
      expect(yield* t.controller.lines).toEqual([])
      yield* at(15_000)
      expect(yield* t.controller.lines).toEqual(["sync web.example.com /"])
    }))
})
