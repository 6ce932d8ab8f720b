/**
 * The live ControllerClient against the reference controller over real HTTP on loopback.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Redacted, Schema, Scope } from "effect"
import { mkdtempSync, renameSync, writeFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControllerClient } from "../../src/controller/ControllerClient.js"
import { ControllerTransport } from "../../src/controller/ControllerTransport.js"
import { Token } from "../../src/controller/Token.js"
import {
  HeartbeatRequest, RegisterRouteRequest, SyncIngress, SyncIngressesRequest, SyncPath, SyncRule, UnregisterRouteRequest
} from "../../src/controller/Wire.js"
import { serveController } from "../support/ControllerServer.js"

const tokens = new Map([["token-a", "cluster-a"], ["token-b", "cluster-b"]])
const fastRetry = { base: Duration.millis(50), cap: Duration.millis(200), attempts: 40, jitter: false }

const clientLayer = (url: string, token: Layer.Layer<Token, unknown>) =>
  ControllerClient.layer({ apiUrl: new URL(url), timeout: Duration.seconds(5), retry: fastRetry, agentId: "agent-1_0000abcd" }).pipe(
    Layer.provide(ControllerTransport.layer), Layer.provide(token))

/** Builds the client in the test's scope, so its HTTP dispatcher lives as long as the test. */
const buildClient = (layer: Layer.Layer<ControllerClient, unknown>) =>
  Effect.map(Layer.build(layer), Context.get(ControllerClient))

const clientFor = (url: string, token: string) => buildClient(clientLayer(url, Token.fromValue(Redacted.make(token))))

const route = (clusterUuid: string, hostname: string, path = "/") => new RegisterRouteRequest({
  hostname, clusterUuid, namespace: "shop", serviceName: "web", servicePort: 8080, ingressName: "shop", path,
  pathType: "Prefix", tls: true, annotations: { a: "b" }, publicEndpoint: "", routingMode: "tunnel"
})
const syncOf = (clusterUuid: string, hosts: ReadonlyArray<string>) => new SyncIngressesRequest({
  clusterUuid, publicEndpoint: "203.0.113.45:80", routingMode: "direct",
  ingresses: [new SyncIngress({ namespace: "shop", ingressName: "shop", annotations: {}, rules: hosts.map((host) =>
    new SyncRule({ host, tls: false, paths: [new SyncPath({ path: "/", pathType: "Prefix", serviceName: "web", servicePort: 80 })] })) })]
})

/** `GET /api/v1/gateway/routes/cluster/{uuid}` as `hostname path` lines. */
const listRoutes = (url: string, token: string, cluster: string) => Effect.promise(async () => {
  const response = await fetch(`${url}/api/v1/gateway/routes/cluster/${cluster}`, { headers: { authorization: `Bearer ${token}` } })
  const body = (await response.json()) as { routes: ReadonlyArray<{ hostname: string; path: string }> }
  return body.routes.map((r) => `${r.hostname} ${r.path}`)
})

const post = (url: string, path: string, body: string, token = "token-a") => Effect.promise(async () => {
  const response = await fetch(`${url}${path}`, { method: "POST", body, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } })
  return { status: response.status, body: await response.text() }
})

describe("ControllerClient ⇄ reference controller", () => {
  it.live("register, sync and unregister round trips", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const client = yield* clientFor(url, "token-a")
      yield* client.healthCheck
      yield* client.registerRoute(route("cluster-a", "a.example.com"))
      yield* client.registerRoute(route("cluster-a", "a.example.com", "/api"))
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["a.example.com /", "a.example.com /api"])
      expect(yield* client.syncIngresses(syncOf("cluster-a", ["b.example.com", "c.example.com"]))).toEqual({ conflicts: [] })
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["b.example.com /", "c.example.com /"])
      yield* client.unregisterRoute(new UnregisterRouteRequest({ hostname: "b.example.com", clusterUuid: "cluster-a" }))
      yield* client.unregisterRoute(new UnregisterRouteRequest({ hostname: "b.example.com", clusterUuid: "cluster-a" }))
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["c.example.com /"])
      yield* client.syncIngresses(syncOf("cluster-a", []))
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual([])
    }).pipe(Effect.scoped))

  it.live("a wrong token is 401, another cluster's body 403", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const wrong = yield* clientFor(url, "nope")
      expect((yield* Effect.flip(wrong.registerRoute(route("cluster-a", "a.example.com"))))._tag).toBe("ControllerUnauthorized")
      const a = yield* clientFor(url, "token-a")
      const error = yield* Effect.flip(a.registerRoute(route("cluster-b", "a.example.com")))
      expect(error._tag === "ControllerUnauthorized" && error.status).toBe(403)
    }).pipe(Effect.scoped))

  it.live("a hostname belongs to one cluster: 409 on register and unregister, conflicts on sync", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const a = yield* clientFor(url, "token-a")
      const b = yield* clientFor(url, "token-b")
      yield* a.registerRoute(route("cluster-a", "taken.example.com"))
      expect((yield* Effect.flip(b.registerRoute(route("cluster-b", "taken.example.com"))))._tag).toBe("RouteConflict")
      expect((yield* Effect.flip(b.unregisterRoute(new UnregisterRouteRequest({ hostname: "taken.example.com", clusterUuid: "cluster-b" }))))._tag).toBe("RouteConflict")
      expect(yield* b.syncIngresses(syncOf("cluster-b", ["taken.example.com", "free.example.com"]))).toEqual({ conflicts: ["taken.example.com"] })
      expect(yield* listRoutes(url, "token-b", "cluster-b")).toEqual(["free.example.com /"])
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["taken.example.com /"])
    }).pipe(Effect.scoped))

  it.live("a rotated token file takes effect without a restart", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const file = join(mkdtempSync(join(tmpdir(), "rotate-")), "token")
      writeFileSync(file, "stale-token\n")
      const client = yield* buildClient(clientLayer(url, Token.fromFile(file).pipe(Layer.provide(NodeContext.layer))))
      expect((yield* Effect.flip(client.registerRoute(route("cluster-a", "a.example.com"))))._tag).toBe("ControllerUnauthorized")
      writeFileSync(`${file}.next`, "token-a\n")
      renameSync(`${file}.next`, file)
      yield* client.registerRoute(route("cluster-a", "a.example.com"))
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["a.example.com /"])
    }).pipe(Effect.scoped))

  it.live("the client retries through a controller restart and succeeds once it is back", () =>
    Effect.gen(function* () {
      const first = yield* Scope.make()
      const { url, port } = yield* serveController(tokens).pipe(Scope.extend(first))
      const client = yield* clientFor(url, "token-a")
      yield* client.registerRoute(route("cluster-a", "a.example.com"))
      yield* Scope.close(first, Exit.void)
      const pending = yield* Effect.fork(client.registerRoute(route("cluster-a", "b.example.com")))
      yield* Effect.sleep(Duration.millis(300))
      yield* serveController(tokens, port)
      yield* Fiber.join(pending)
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["b.example.com /"])
    }).pipe(Effect.scoped))
})

describe("heartbeats ⇄ reference controller", () => {
  const beat = (clusterUuid: string, gatewayRoutes: number) => new HeartbeatRequest({
    clusterUuid, agentId: "agent-1_0000abcd", agentVersion: "0.1.0", k8sVersion: "v1.31.2", status: "healthy", tunnelStatus: "not_used",
    metadata: { isPrivate: false, gatewayRoutes, routingMode: "direct", publicEndpoint: "203.0.113.45:80" }
  })
  const view = (url: string, token: string, cluster: string) => Effect.promise(async () => {
    const response = await fetch(`${url}/api/v1/clusters/agent/${cluster}`, { headers: { authorization: `Bearer ${token}` } })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })

  it.live("keeps a cluster's last heartbeat with its arrival and the cluster's route count; another cluster's token is refused", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      expect((yield* view(url, "token-a", "cluster-a")).status).toBe(404)
      const client = yield* clientFor(url, "token-a")
      yield* client.registerRoute(route("cluster-a", "a.example.com"))
      const before = Date.now()
      yield* client.heartbeat(beat("cluster-a", 1))
      const { status, body } = yield* view(url, "token-a", "cluster-a")
      expect(status).toBe(200)
      expect(body).toMatchObject({
        cluster_uuid: "cluster-a", agent_id: "agent-1_0000abcd", k8s_version: "v1.31.2", status: "healthy", tunnel_status: "not_used",
        metadata: { is_private: false, gateway_routes: 1, routing_mode: "direct", public_endpoint: "203.0.113.45:80" }, registered_routes: 1
      })
      expect(Date.parse(String(body["last_seen"]))).toBeGreaterThanOrEqual(before - 1000)
      const refused = yield* Effect.exit((yield* clientFor(url, "token-b")).heartbeat(beat("cluster-a", 5)))
      expect(Exit.isFailure(refused)).toBe(true)
      expect((yield* view(url, "token-b", "cluster-a")).status).toBe(403)
    }).pipe(Effect.scoped))
})

describe("reference controller input validation", () => {
  const registerPath = "/api/v1/gateway/routes/register"
  const valid = Schema.encodeSync(RegisterRouteRequest)(route("cluster-a", "a.example.com"))

  it.live.each([
    ["malformed JSON", 400, "{not json", "malformed JSON"],
    ["a wrong type", 400, JSON.stringify({ ...valid, service_port: "8080" }), "service_port"],
    ["a missing field", 400, JSON.stringify({ ...valid, path_type: undefined }), "path_type"],
    ["an unknown routing mode", 400, JSON.stringify({ ...valid, routing_mode: "proxy" }), "routing_mode"],
    ["a body over 10 MiB", 413, JSON.stringify({ ...valid, annotations: { big: "x".repeat(10 * 1024 * 1024) } }), "larger than"]
  ] as const)("%s → %d with a JSON error naming the problem; nothing stored changes", ([, status, body, mention]) =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const client = yield* clientFor(url, "token-a")
      yield* client.registerRoute(route("cluster-a", "kept.example.com"))
      const response = yield* post(url, registerPath, body)
      expect(response.status).toBe(status)
      expect((JSON.parse(response.body) as { error: string }).error).toContain(mention)
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["kept.example.com /"])
    }).pipe(Effect.scoped))

  it.live("hostnames are normalised and validated on every endpoint: another cluster cannot side-step an owner by spelling", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      yield* (yield* clientFor(url, "token-a")).registerRoute(route("cluster-a", "shop.example.com"))
      const asB = (hostname: string) => JSON.stringify(Schema.encodeSync(RegisterRouteRequest)(route("cluster-b", hostname)).hostname === "" ? {} : {
        ...Schema.encodeSync(RegisterRouteRequest)(route("cluster-b", "x.example.com")), hostname
      })
      expect((yield* post(url, registerPath, asB("SHOP.example.com"), "token-b")).status).toBe(409)
      expect((yield* post(url, registerPath, asB("shop.example.com."), "token-b")).status).toBe(409)
      expect((yield* post(url, registerPath, asB(""), "token-b")).status).toBe(400)
      expect((yield* post(url, registerPath, asB("not a host!"), "token-b")).status).toBe(400)
      const unregister = yield* post(url, "/api/v1/gateway/routes/unregister", JSON.stringify({ hostname: "Shop.Example.com.", cluster_uuid: "cluster-b" }), "token-b")
      expect(unregister.status).toBe(409)
      const synced = yield* post(url, "/api/v1/gateway/routes/sync", JSON.stringify(Schema.encodeSync(SyncIngressesRequest)(syncOf("cluster-b", ["SHOP.EXAMPLE.COM"]))), "token-b")
      expect(JSON.parse(synced.body)).toMatchObject({ conflicts: ["shop.example.com"] })
      expect(yield* listRoutes(url, "token-a", "cluster-a")).toEqual(["shop.example.com /"])
      // One invalid hostname refuses the whole sync: nothing of it is applied.
      const invalid = yield* post(url, "/api/v1/gateway/routes/sync", JSON.stringify(Schema.encodeSync(SyncIngressesRequest)(syncOf("cluster-b", ["ok.example.com", "not a host!"]))), "token-b")
      expect(invalid.status).toBe(400)
      expect(invalid.body).toContain("not a host!")
      expect(yield* listRoutes(url, "token-b", "cluster-b")).toEqual([])
    }).pipe(Effect.scoped))

  // The server stops reading at the limit and resets the connection (the platform destroys the
  // request stream there): refused, without reading the rest of a body that declares no length.
  it.live("a chunked body past the limit is refused before the client has sent it all", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const outcome = yield* Effect.promise(() => new Promise<{ refused: string; sent: number }>((resolve) => {
        let sent = 0
        const request = httpRequest(`${url}${registerPath}`, { method: "POST", headers: { authorization: "Bearer token-a", "content-type": "application/json" } })
        request.on("response", (response) => {
          response.resume()
          resolve({ refused: `status ${response.statusCode ?? 0}`, sent })
          request.destroy()
        })
        request.on("error", (error) => resolve({ refused: error.message, sent }))
        const chunk = Buffer.alloc(1024 * 1024, 0x61)
        const pump = () => {
          while (sent < 100 * 1024 * 1024 && !request.destroyed) {
            sent += chunk.length
            if (!request.write(chunk)) return void request.once("drain", pump)
          }
          request.end()
        }
        request.write(`{"hostname":"a.example.com","annotations":{"big":"`)
        pump()
      }))
      expect(outcome.refused).toMatch(/status 413|ECONNRESET|EPIPE/)
      expect(outcome.sent).toBeLessThan(32 * 1024 * 1024)
    }).pipe(Effect.scoped))

  it.live("health needs no token; unknown paths are 404", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const health = yield* Effect.promise(() => fetch(`${url}/health`))
      expect(health.status).toBe(200)
      expect((yield* post(url, "/api/v1/nope", "{}")).status).toBe(404)
    }).pipe(Effect.scoped))
})

describe("reference controller under concurrent requests", () => {
  it.live("keeps one owner per hostname and every per-host sequence's outcome", () =>
    Effect.gen(function* () {
      const { url } = yield* serveController(tokens)
      const clients = { "cluster-a": yield* clientFor(url, "token-a"), "cluster-b": yield* clientFor(url, "token-b") }
      const clusters = ["cluster-a", "cluster-b"] as const
      const own = (cluster: string, i: number) => `h${i}.${cluster}.example.com`
      // Phase 1: per host, register then (for even hosts) unregister; hosts run in parallel, and
      // both clusters race to register the same shared hosts.
      yield* Effect.forEach(clusters, (cluster) => Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) =>
        Effect.gen(function* () {
          yield* clients[cluster].registerRoute(route(cluster, own(cluster, i)))
          if (i % 2 === 0) yield* clients[cluster].unregisterRoute(new UnregisterRouteRequest({ hostname: own(cluster, i), clusterUuid: cluster }))
          yield* Effect.ignore(clients[cluster].registerRoute(route(cluster, `shared${i % 20}.example.com`)))
        }), { concurrency: "unbounded" }), { concurrency: "unbounded" })
      const after = { a: yield* listRoutes(url, "token-a", "cluster-a"), b: yield* listRoutes(url, "token-b", "cluster-b") }
      for (const [cluster, listed] of [["cluster-a", after.a], ["cluster-b", after.b]] as const) {
        expect(listed.filter((l) => l.includes(cluster))).toEqual(
          Array.from({ length: 50 }, (_, k) => `${own(cluster, 2 * k + 1)} /`).sort())
      }
      const sharedOwners = [...after.a, ...after.b].filter((l) => l.startsWith("shared"))
      expect(sharedOwners.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `shared${i}.example.com /`).sort())

      // Phase 2: both clusters sync at once, contesting fresh hostnames.
      const contested = Array.from({ length: 30 }, (_, i) => `contested${i}.example.com`)
      const [syncA, syncB] = yield* Effect.all(clusters.map((cluster) =>
        clients[cluster].syncIngresses(syncOf(cluster, contested))), { concurrency: "unbounded" })
      const ownedA = (yield* listRoutes(url, "token-a", "cluster-a")).map((l) => l.split(" ")[0])
      const ownedB = (yield* listRoutes(url, "token-b", "cluster-b")).map((l) => l.split(" ")[0])
      for (const host of contested) {
        expect([ownedA.includes(host), ownedB.includes(host)].filter(Boolean)).toHaveLength(1)
        expect(ownedA.includes(host) ? syncB?.conflicts : syncA?.conflicts).toContain(host)
      }
    }).pipe(Effect.scoped), 30_000)
})
