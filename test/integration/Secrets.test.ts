/**
 * The controller client against a controller that echoes the Authorization header in its error
 * bodies (as some proxies do), over real loopback sockets: the token reaches no error and no log.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Redacted } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { ControllerClient } from "../../src/controller/ControllerClient.js"
import { ControllerTransport } from "../../src/controller/ControllerTransport.js"
import { Token } from "../../src/controller/Token.js"
import { UnregisterRouteRequest } from "../../src/controller/Wire.js"

const secret = "echo-me-7f3a9c2d1e"

/** A server answering `status` with a body that echoes the request's Authorization header. */
const echoing = (status: number) => Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
    const server = createServer((req, res) => {
      req.resume()
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify({ error: `refused ${req.headers.authorization ?? ""}`, token: secret, headers: req.headers }))
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })))
  }),
  (server) => Effect.sync(server.close))

const client = (url: string, token: string) => Effect.provide(ControllerClient, ControllerClient.layer({
  apiUrl: new URL(url), timeout: Duration.seconds(5), retry: { base: Duration.millis(1), cap: Duration.millis(1), attempts: 2, jitter: false }, agentId: "agent-1_00000001"
}).pipe(Layer.provide(Layer.merge(ControllerTransport.layer, Token.fromValue(Redacted.make(token))))))

describe("a controller that echoes credentials", () => {
  it.live.each([400, 401, 403, 429, 500])("status %d: the token is in no error and no log line", (status) =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.make(({ message, annotations }) => void lines.push(JSON.stringify([message, [...annotations]])))
      const server = yield* echoing(status)
      const error = yield* Effect.flip((yield* client(server.url, secret)).unregisterRoute(new UnregisterRouteRequest({ hostname: "a.example.com", clusterUuid: "c" }))).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      expect(lines.length).toBeGreaterThan(0)
      for (const text of [error.message, JSON.stringify(error), ...lines]) expect(text).not.toContain(secret)
    }).pipe(Effect.scoped))

  it.live("a token no HTTP header can carry fails the call with a typed error instead of throwing", () =>
    Effect.gen(function* () {
      const server = yield* echoing(200)
      const error = yield* Effect.flip((yield* client(server.url, "line\nbreak")).unregisterRoute(new UnregisterRouteRequest({ hostname: "a.example.com", clusterUuid: "c" })))
      expect(error._tag).toBe("ControllerUnavailable")
      expect(error.message).not.toContain("break")
    }).pipe(Effect.scoped))
})
