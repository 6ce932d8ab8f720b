/**
 * The node:http transport against real loopback servers that misbehave.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { createServer, type RequestListener } from "node:http"
import type { AddressInfo } from "node:net"
import { ControllerTransport } from "../../src/controller/ControllerTransport.js"

/**
 * A server on a free loopback port until the scope closes; `connections` counts TCP connections,
 * `requests` the requests that reached it.
 */
const serve = (handler: RequestListener) => Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly connections: () => number; readonly requests: () => number; readonly close: () => void }>((resume) => {
    let connections = 0
    let requests = 0
    const server = createServer(handler)
    server.on("connection", () => (connections += 1))
    server.on("request", () => (requests += 1))
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      connections: () => connections,
      requests: () => requests,
      close: () => server.closeAllConnections()
    })))
  }),
  (server) => Effect.sync(() => server.close()))

const send = (url: string, timeout = Duration.seconds(5), body?: string) =>
  ControllerTransport.pipe(Effect.flatMap((t) => t.send({ method: body === undefined ? "GET" : "POST", url, headers: { "content-type": "text/plain" }, body }, timeout)))

describe("ControllerTransport", () => {
  it.live("returns status, Retry-After and body, and reuses one connection for consecutive requests", () =>
    Effect.gen(function* () {
      const server = yield* serve((req, res) => {
        let received = ""
        req.on("data", (chunk: Buffer) => (received += chunk.toString()))
        req.on("end", () => {
          res.writeHead(503, { "retry-after": "7" })
          res.end(`got ${received}`)
        })
      })
      const replies = [yield* send(server.url, Duration.seconds(5), "one"), yield* send(server.url, Duration.seconds(5), "two")]
      expect(replies).toEqual([{ status: 503, retryAfter: "7", body: "got one" }, { status: 503, retryAfter: "7", body: "got two" }])
      expect(server.connections()).toBe(1)
    }).pipe(Effect.provide(ControllerTransport.layer), Effect.scoped))

  it.live("fails with the timeout when no reply comes in time", () =>
    Effect.gen(function* () {
      const server = yield* serve(() => undefined)
      const failure = yield* Effect.flip(send(server.url, Duration.millis(200)))
      expect(failure.reason).toBe("timed out after 200ms")
      server.close()
    }).pipe(Effect.provide(ControllerTransport.layer), Effect.scoped))

  it.live("fails when the reply breaks off before its end, and when nothing listens", () =>
    Effect.gen(function* () {
      const server = yield* serve((_req, res) => {
        res.writeHead(200, { "content-length": "100" })
        res.write("partial")
        setTimeout(() => res.socket?.destroy(), 20)
      })
      expect((yield* Effect.flip(send(server.url))).reason).toMatch(/broke off|aborted|socket hang up/)
      const refused = yield* Effect.flip(send("http://127.0.0.1:1/"))
      expect(refused.reason).toContain("ECONNREFUSED")
    }).pipe(Effect.provide(ControllerTransport.layer), Effect.scoped))

  it.live("sends again at once, on a new connection, when a kept-alive one was closed as the request went out", () =>
    Effect.gen(function* () {
      // The controller drops each connection when its second request arrives (an idle timeout
      // that fires just then): the request was never answered.
      const seen = new WeakMap<object, number>()
      const server = yield* serve((req, res) => {
        const count = (seen.get(req.socket) ?? 0) + 1
        seen.set(req.socket, count)
        if (count === 2) return void req.socket.destroy()
        res.end(`answer ${count}`)
      })
      expect(yield* send(server.url, Duration.seconds(5), "one")).toMatchObject({ status: 200, body: "answer 1" })
      expect(yield* send(server.url, Duration.seconds(5), "two")).toMatchObject({ status: 200, body: "answer 1" })
      expect({ connections: server.connections(), requests: server.requests() }).toEqual({ connections: 2, requests: 3 })
    }).pipe(Effect.provide(ControllerTransport.layer), Effect.scoped))

  it.live("does not send again when a new connection breaks", () =>
    Effect.gen(function* () {
      const server = yield* serve((req) => void req.socket.destroy())
      expect((yield* Effect.flip(send(server.url))).reason).toMatch(/socket hang up|ECONNRESET/)
      expect(server.requests()).toBe(1)
    }).pipe(Effect.provide(ControllerTransport.layer), Effect.scoped))
})
