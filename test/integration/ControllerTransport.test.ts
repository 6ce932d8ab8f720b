/**
 * The node:http transport against real loopback servers that misbehave.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { createServer, type RequestListener } from "node:http"
import type { AddressInfo } from "node:net"
import { ControllerTransport } from "../../src/controller/ControllerTransport.js"

/** A server on a free loopback port until the scope closes; `connections` counts TCP connections. */
const serve = (handler: RequestListener) => Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly connections: () => number; readonly close: () => void }>((resume) => {
    let connections = 0
    const server = createServer(handler)
    server.on("connection", () => (connections += 1))
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      connections: () => connections,
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
})
