/**
 * The Gateway API end to end (built agent, API-server simulator, reference controller): the CRDs
 * installed while the agent runs, an HTTPRoute accepted by a Gateway routed, the Gateway's address
 * turning private, the route deleted.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gateways, httpRoutes } from "../../src/kubernetes/Resources.js"
import { simulator } from "../support/ApiServerSimulator.js"
import { startCli } from "../support/Cli.js"
import { serveController } from "../support/ControllerServer.js"
import { eventually } from "../support/Eventually.js"
import { gateway, httpRoute, httpRule } from "../support/GatewayBuilders.js"
import { freePort } from "../support/Ports.js"

interface RegisteredRoute { readonly hostname: string; readonly path: string; readonly routing_mode: string; readonly public_endpoint: string; readonly service_name: string }

describe("Gateway API (built program)", () => {
  it.live("CRDs installed later are followed: an accepted HTTPRoute is routed, a private Gateway means tunnel, a deleted route is unregistered", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "kube-token", kubeSystemUid: "uid-gw" })
      const controller = yield* serveController(new Map([["agent-token", "uid-gw"]]))
      const dir = mkdtempSync(join(tmpdir(), "agent-gw-"))
      writeFileSync(join(dir, "kubeconfig"), sim.kubeconfig())
      const adminPort = yield* freePort()
      const agent = yield* Effect.acquireRelease(Effect.sync(() => startCli(["run"], {
        KUBECONFIG: join(dir, "kubeconfig"), PIPEOPS_API_URL: controller.url, PIPEOPS_TOKEN: "agent-token", PIPEOPS_ADMIN_PORT: String(adminPort),
        PIPEOPS_LEADER_ELECT: "false", PIPEOPS_DISCOVERY_INTERVAL: "300ms", PIPEOPS_MODE_GRACE_PERIOD: "1s", LOG_LEVEL: "debug"
      })), (a) => Effect.promise(() => a.stop("SIGKILL")))
      const routes = Effect.promise(async () => {
        const response = await fetch(`${controller.url}/api/v1/gateway/routes/cluster/uid-gw`, { headers: { authorization: "Bearer agent-token" } })
        return ((await response.json()) as { routes: ReadonlyArray<RegisteredRoute> }).routes
      })
      const readyz = Effect.promise(() => fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0))

      // The Gateway API is not served: the agent starts, syncs, and says nothing about it above debug.
      yield* eventually(readyz, (status) => status === 200, 20_000)
      yield* Effect.sleep("700 millis")
      const quiet = agent.output().split("\n").filter((l) => /"level":"(warn|error)"/.test(l))
      expect(quiet.filter((l) => /gateway|httproute|discover/i.test(l))).toEqual([])
      expect(agent.output()).toContain("does not serve the Gateway API")

      // Installed: a Gateway with a public address accepts an HTTPRoute.
      sim.store.upsert(gateways, gateway({ addresses: ["203.0.113.7"] }))
      sim.store.upsert(httpRoutes, httpRoute({ name: "shop", hostnames: ["shop.example.com"], rules: [httpRule([["PathPrefix", "/"]], ["storefront", 8080])] }))
      sim.serveGatewayApi(true)
      const direct = yield* eventually(routes, (r) => r.some((x) => x.hostname === "shop.example.com"), 10_000)
      expect(direct).toEqual([expect.objectContaining({ hostname: "shop.example.com", path: "/", service_name: "storefront", routing_mode: "direct", public_endpoint: "203.0.113.7:80" })])

      // The Gateway's address turns private: tunnel after the grace period.
      sim.store.upsert(gateways, gateway({ addresses: ["10.0.0.7"] }))
      yield* eventually(routes, (r) => r.length === 1 && r[0]?.routing_mode === "tunnel" && r[0].public_endpoint === "", 10_000)

      // The route deleted: unregistered.
      sim.store.remove(httpRoutes, "default", "shop")
      yield* eventually(routes, (r) => r.length === 0, 10_000)
    }).pipe(Effect.scoped), 60_000)
})
