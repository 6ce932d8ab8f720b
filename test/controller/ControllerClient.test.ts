import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Logger, LogLevel, Redacted, Ref, Schema, TestClock } from "effect"
import { ControllerClient } from "../../src/controller/ControllerClient.js"
import { defaultRetryPolicy } from "../../src/controller/ControllerRetry.js"
import { Token } from "../../src/controller/Token.js"
import { HeartbeatRequest, RegisterRouteRequest, SyncIngressesRequest, UnregisterRouteRequest } from "../../src/controller/Wire.js"
import { makeTransportStub, type StubReply } from "../support/TransportStub.js"

const secret = "s3cr3t-token-value"
const settings = {
  apiUrl: new URL("http://controller.test/prefix/"),
  timeout: Duration.seconds(30),
  retry: { ...defaultRetryPolicy, jitter: false },
  agentId: "agent-1_0a1b2c3d"
}

const registerJson = `{"hostname":"shop.example.com","cluster_uuid":"c-1","namespace":"shop","service_name":"web",` +
  `"service_port":8080,"ingress_name":"shop","path":"/","path_type":"Prefix","tls":false,"annotations":{},` +
  `"public_endpoint":"","routing_mode":"tunnel"}`
const register = Schema.decodeUnknownSync(RegisterRouteRequest)(JSON.parse(registerJson))
const sync = new SyncIngressesRequest({ clusterUuid: "c-1", publicEndpoint: "", routingMode: "tunnel", ingresses: [] })

/** A client over a stub scripted with `replies`; `requests` counts what reached the stub. */
const setup = (replies: ReadonlyArray<StubReply>, retry = settings.retry) => Effect.gen(function* () {
  const stub = yield* makeTransportStub(replies)
  const client = yield* ControllerClient.pipe(Effect.provide(
    ControllerClient.layer({ ...settings, retry }).pipe(
      Layer.provide(stub.layer), Layer.provide(Token.fromValue(Redacted.make(secret))))))
  const count = Ref.get(stub.requests).pipe(Effect.map((all) => all.length))
  return { client, requests: stub.requests, count }
})

describe("ControllerClient", () => {
  it.effect("registers with the bearer token and the exact snake_case body", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* setup([{ status: 200 }])
      yield* client.registerRoute(register)
      const [request] = yield* Ref.get(requests)
      expect(request?.method).toBe("POST")
      expect(request?.url).toBe("http://controller.test/prefix/api/v1/gateway/routes/register")
      expect(request?.headers["authorization"]).toBe(`Bearer ${secret}`)
      expect(request?.headers["content-type"]).toBe("application/json")
      expect(request?.headers["x-pipeops-agent-id"]).toBe("agent-1_0a1b2c3d")
      expect(request?.body).toBe(registerJson)
    }))

  it.effect("sends a heartbeat to the cluster's path with every field, once: a failure is not retried", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* setup([{ status: 503 }, { status: 200 }])
      const heartbeat = new HeartbeatRequest({
        clusterUuid: "c/1", agentId: "agent-1_0a1b2c3d", agentVersion: "0.1.0", k8sVersion: "v1.31.2", status: "degraded",
        tunnelStatus: "not_used", metadata: { isPrivate: false, gatewayRoutes: 3, routingMode: "direct", publicEndpoint: "203.0.113.45:80" }
      })
      const exit = yield* Effect.exit(client.heartbeat(heartbeat))
      expect(Exit.isFailure(exit)).toBe(true)
      const all = yield* Ref.get(requests)
      expect(all.map((r) => [r.url.replace("http://controller.test/prefix", ""), r.headers["x-pipeops-agent-id"], r.body])).toEqual([[
        "/api/v1/clusters/agent/c%2F1/heartbeat", "agent-1_0a1b2c3d",
        `{"cluster_uuid":"c/1","agent_id":"agent-1_0a1b2c3d","agent_version":"0.1.0","k8s_version":"v1.31.2","status":"degraded",` +
        `"tunnel_status":"not_used","metadata":{"is_private":false,"gateway_routes":3,"routing_mode":"direct","public_endpoint":"203.0.113.45:80"}}`
      ]])
    }))

  it.effect("unregisters with the cluster UUID and syncs to their paths", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* setup([{ status: 204 }])
      yield* client.unregisterRoute(new UnregisterRouteRequest({ hostname: "a.example.com", clusterUuid: "c-1" }))
      yield* client.syncIngresses(sync)
      const all = yield* Ref.get(requests)
      expect(all.map((r) => [r.url.replace("http://controller.test/prefix", ""), r.body])).toEqual([
        ["/api/v1/gateway/routes/unregister", `{"hostname":"a.example.com","cluster_uuid":"c-1"}`],
        ["/api/v1/gateway/routes/sync", `{"cluster_uuid":"c-1","public_endpoint":"","routing_mode":"tunnel","ingresses":[]}`]
      ])
    }))

  it.effect("returns the conflicts of a sync; an empty or odd body means none", () =>
    Effect.gen(function* () {
      const { client } = yield* setup([{ status: 200, body: `{"conflicts":["taken.example.com"]}` }, { status: 201, body: "ok" }])
      expect(yield* client.syncIngresses(sync)).toEqual({ conflicts: ["taken.example.com"] })
      expect(yield* client.syncIngresses(sync)).toEqual({ conflicts: [] })
    }))

  it.effect.each([
    [200, "success", 1], [201, "success", 1], [204, "success", 1],
    [400, "ControllerRejected", 1], [404, "ControllerRejected", 1], [422, "ControllerRejected", 1],
    [401, "ControllerUnauthorized", 1], [403, "ControllerUnauthorized", 1], [409, "RouteConflict", 1],
    [408, "ControllerUnavailable", 5], [429, "ControllerUnavailable", 5], [500, "ControllerUnavailable", 5],
    [502, "ControllerUnavailable", 5], [503, "ControllerUnavailable", 5]
  ] as const)("status %d → %s after %d request(s)", ([status, outcome, calls]) =>
    Effect.gen(function* () {
      const { client, count } = yield* setup([{ status, body: "nope" }])
      const fiber = yield* Effect.fork(client.registerRoute(register))
      yield* TestClock.adjust(Duration.minutes(1))
      const exit = yield* Fiber.await(fiber)
      expect(Exit.match(exit, { onSuccess: () => "success", onFailure: (c) => (c._tag === "Fail" ? c.error._tag : c._tag) })).toBe(outcome)
      expect(yield* count).toBe(calls)
    }))

  it.effect("a refused connection is retryable", () =>
    Effect.gen(function* () {
      const { client, count } = yield* setup(["refused", { status: 200 }])
      const fiber = yield* Effect.fork(client.registerRoute(register))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(fiber)
      expect(yield* count).toBe(2)
    }))

  it.effect("retries at 1 s, not at 999 ms, then backs off exponentially", () =>
    Effect.gen(function* () {
      const { client, count } = yield* setup([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 200 }])
      const fiber = yield* Effect.fork(client.registerRoute(register))
      yield* TestClock.adjust(Duration.millis(999))
      expect(yield* count).toBe(1)
      yield* TestClock.adjust(Duration.millis(1))
      expect(yield* count).toBe(2)
      yield* TestClock.adjust(Duration.millis(1999))
      expect(yield* count).toBe(2)
      yield* TestClock.adjust(Duration.millis(1))
      expect(yield* count).toBe(3)
      yield* TestClock.adjust(Duration.seconds(4))
      yield* Fiber.join(fiber)
      expect(yield* count).toBe(4)
    }))

  it.effect("honours Retry-After: 7 s", () =>
    Effect.gen(function* () {
      const { client, count } = yield* setup([{ status: 429, headers: { "retry-after": "7" } }, { status: 200 }])
      const fiber = yield* Effect.fork(client.registerRoute(register))
      yield* TestClock.adjust(Duration.millis(6999))
      expect(yield* count).toBe(1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      expect(yield* count).toBe(2)
    }))

  it.effect("a Retry-After of an hour waits 60 s, with a warning", () =>
    Effect.gen(function* () {
      const warnings: Array<string> = []
      const capture = Logger.make(({ message, logLevel }) => void (logLevel._tag === "Warning" && warnings.push(String(message))))
      const { client, count } = yield* setup([{ status: 503, headers: { "retry-after": "3600" } }, { status: 200 }])
      const fiber = yield* Effect.fork(client.registerRoute(register).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture))))
      yield* TestClock.adjust(Duration.millis(59_999))
      expect(yield* count).toBe(1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      expect(yield* count).toBe(2)
      expect(warnings).toContain("Retry-After too long: waiting less")
    }))

  it.effect("a failing controller is one warning for the whole streak (every retry, every call), and one line when it answers again", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.make(({ message, logLevel }) => void lines.push(`${logLevel.label} ${String(message)}`))
      const { client } = yield* setup([{ status: 503 }, { status: 503 }, { status: 502 }, { status: 500 }, { status: 200 }], { ...settings.retry, attempts: 2 })
      const calls = Effect.all([
        Effect.exit(client.registerRoute(register)), Effect.exit(client.registerRoute(register)), client.registerRoute(register)
      ]).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.Debug))
      const fiber = yield* Effect.fork(calls)
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(fiber)
      expect(lines.filter((l) => l.startsWith("WARN"))).toEqual(["WARN controller request failed"])
      expect(lines.filter((l) => l.startsWith("DEBUG controller request failed"))).toHaveLength(3)
      expect(lines.filter((l) => l.startsWith("INFO"))).toEqual(["INFO controller answers again"])
    }))

  it.effect("times a request out after 30 s and retries it", () =>
    Effect.gen(function* () {
      const { client, count } = yield* setup(["hang", { status: 200 }])
      const fiber = yield* Effect.fork(client.registerRoute(register))
      yield* TestClock.adjust(Duration.millis(30_999))
      expect(yield* count).toBe(1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      expect(yield* count).toBe(2)
    }))

  it.effect("health is one GET with no retries", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* setup([{ status: 503 }])
      const exit = yield* Effect.exit(client.healthCheck)
      expect(Exit.isFailure(exit)).toBe(true)
      expect((yield* Ref.get(requests)).map((r) => `${r.method} ${r.url}`)).toEqual(["GET http://controller.test/prefix/health"])
    }))

  it.effect("jittered delays stay within 0.8–1.2 of 1 s, 2 s, 4 s", () =>
    Effect.gen(function* () {
      const { client, count } = yield* setup([{ status: 503 }], { ...defaultRetryPolicy, jitter: true })
      const fiber = yield* Effect.fork(client.registerRoute(register))
      const expectedCounts: ReadonlyArray<readonly [number, number]> = [[799, 1], [1200, 2], [2399, 2], [3600, 3]]
      let elapsed = 0
      for (const [at, expected] of expectedCounts) {
        yield* TestClock.adjust(Duration.millis(at - elapsed))
        elapsed = at
        expect(yield* count).toBe(expected)
      }
      yield* TestClock.adjust(Duration.minutes(1))
      yield* Fiber.await(fiber)
    }))

  it.effect("never shows the token in an error's message, string or JSON", () =>
    Effect.gen(function* () {
      const { client } = yield* setup([{ status: 401, body: "bad token" }])
      const error = yield* Effect.flip(client.registerRoute(register))
      for (const text of [error.message, String(error), JSON.stringify(error), JSON.stringify(Exit.fail(error))]) {
        expect(text).not.toContain(secret)
      }
    }))
})

describe("ControllerClient.layerDryRun", () => {
  it.effect("logs the request it would send and sends nothing", () =>
    Effect.gen(function* () {
      const lines = yield* Ref.make<ReadonlyArray<string>>([])
      const logger = Logger.make(({ message, annotations }) => {
        Effect.runSync(Ref.update(lines, (all) => [...all, `${String(message)} ${JSON.stringify([...annotations])}`]))
      })
      const client = yield* ControllerClient.pipe(Effect.provide(ControllerClient.layerDryRun))
      yield* client.registerRoute(register).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      const [line] = yield* Ref.get(lines)
      expect(line).toContain("dry run: request not sent")
      expect(line).toContain(`"service_name":"web"`)
    }))
})
