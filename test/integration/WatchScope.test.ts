/**
 * The cluster cache watching only what the operator's filters allow, against the API-server
 * simulator over HTTP: namespaced requests, the label selector applied by the server.
 */
import { describe, expect, it } from "@effect/vitest"
import { KubeConfig } from "@kubernetes/client-node"
import { Context, Effect, Either, Layer, Option } from "effect"
import { parseLabelSelector } from "../../src/domain/LabelSelector.js"
import { ClusterCache, scopeFor } from "../../src/gateway/ClusterCache.js"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { defaultReflectorOptions } from "../../src/kubernetes/Reflector.js"
import { gateways, httpRoutes, ingresses, services } from "../../src/kubernetes/Resources.js"
import { Metrics } from "../../src/observability/Metrics.js"
import { Probes } from "../../src/observability/Probes.js"
import { simulator } from "../support/ApiServerSimulator.js"
import { ingress, service } from "../support/Builders.js"
import { eventually } from "../support/Eventually.js"
import { gateway, httpRoute } from "../support/GatewayBuilders.js"

describe("a namespaced, label-selected watch", () => {
  it.live("asks only for its namespaces with the selector (Ingresses and HTTPRoutes), keeps only what matches, and drops what stops matching", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "t" })
      sim.store.upsert(ingresses, ingress({ name: "shown", namespace: "team-a", host: "a.example.com", labels: { expose: "public" } }))
      sim.store.upsert(ingresses, ingress({ name: "private", namespace: "team-a", host: "p.example.com" }))
      sim.store.upsert(ingresses, ingress({ name: "other", namespace: "team-b", host: "b.example.com", labels: { expose: "public" } }))
      sim.store.upsert(services, service({ name: "web", namespace: "team-a", type: "ClusterIP" }))
      sim.store.upsert(services, service({ name: "db", namespace: "team-b", type: "ClusterIP" }))
      sim.store.upsert(services, service())
      sim.serveGatewayApi(true)
      sim.store.upsert(httpRoutes, httpRoute({ name: "shown", namespace: "team-a", labels: { expose: "public" } }))
      sim.store.upsert(httpRoutes, httpRoute({ name: "other", namespace: "team-b", labels: { expose: "public" } }))
      sim.store.upsert(gateways, gateway({ namespace: "team-a" }))
      sim.store.upsert(gateways, gateway({ namespace: "gateway-system" }))
      const config = new KubeConfig()
      config.loadFromString(sim.kubeconfig())
      const selection = { ingressClasses: [], gatewayClasses: [], namespaces: ["team-a"], labelSelector: Option.some(Either.getOrThrow(parseLabelSelector("expose=public"))) }
      const context = yield* Layer.build(ClusterCache.layer(defaultReflectorOptions, scopeFor(selection, {})).pipe(
        Layer.provide(Layer.mergeAll(KubernetesApi.fromKubeConfig(config), Metrics.layer({ processMetrics: false }), Probes.layer))))
      const cache = Context.get(context, ClusterCache)
      yield* cache.synced
      const snapshot = yield* cache.snapshot
      expect([...snapshot.ingresses.keys()]).toEqual(["team-a/shown"])
      expect([...snapshot.services.keys()].sort()).toEqual(["ingress-nginx/ingress-nginx-controller", "team-a/web"])
      expect([...snapshot.httpRoutes.keys()]).toEqual(["team-a/shown"])
      expect([...snapshot.gateways.keys()]).toEqual(["team-a/eg"])
      // IngressClasses are cluster-scoped, discovery is not a collection; everything else is asked for per namespace.
      const collections = sim.requests().filter((r) => r.startsWith("GET /api") && !r.includes("/ingressclasses") && r !== "GET /api/v1/namespaces/kube-system" &&
        r !== "GET /apis/gateway.networking.k8s.io/v1")
      expect(collections.every((r) => r.includes("/namespaces/"))).toBe(true)
      expect(collections.filter((r) => r.includes("/ingresses") || r.includes("/httproutes")).every((r) => r.includes("labelSelector=expose%3Dpublic"))).toBe(true)
      expect(collections.some((r) => r.includes("/httproutes"))).toBe(true)
      sim.store.upsert(ingresses, ingress({ name: "shown", namespace: "team-a", host: "a.example.com", labels: { expose: "no" } }))
      yield* eventually(Effect.map(cache.snapshot, (s) => s.ingresses.size), (n) => n === 0)
    }).pipe(Effect.scoped))
})
