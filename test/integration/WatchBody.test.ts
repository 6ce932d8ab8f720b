/**
 * How a watch body is cut into events, against a raw server that writes it byte by byte as it likes.
 */
import { KubeConfig } from "@kubernetes/client-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { ingresses } from "../../src/kubernetes/Resources.js"

/** A server answering every request with `pieces`, each its own write, 10 ms apart. */
const serve = (pieces: ReadonlyArray<Buffer>) => Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      const next = (i: number) => {
        if (i === pieces.length) return res.end()
        res.write(pieces[i])
        setTimeout(() => next(i + 1), 10)
      }
      next(0)
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => server.close()
    })))
  }),
  (server) => Effect.sync(() => server.close()))

const apiFor = (url: string) => {
  const config = new KubeConfig()
  config.loadFromOptions({
    clusters: [{ name: "c", server: url, skipTLSVerify: true }], users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x"
  })
  return KubernetesApi.fromKubeConfig(config)
}

describe("watch body", () => {
  it.live("a character split between two writes stays whole; a last line without its newline still counts", () =>
    Effect.gen(function* () {
      const body = Buffer.from(`{"type":"ADDED","object":{"metadata":{"name":"café"}}}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}`)
      const cut = body.indexOf(Buffer.from("é")) + 1
      const server = yield* serve([body.subarray(0, cut), body.subarray(cut)])
      const api = yield* KubernetesApi.pipe(Effect.provide(apiFor(server.url)))
      const events = yield* Stream.runCollect(yield* api.watch(ingresses, { resourceVersion: "1", timeoutSeconds: 5, allowWatchBookmarks: true }))
      expect([...events]).toEqual([
        { type: "ADDED", object: { metadata: { name: "café" } } },
        { type: "BOOKMARK", object: { metadata: { resourceVersion: "7" } } }
      ])
    }).pipe(Effect.scoped))

  it.live("a consumer that falls behind holds the server back, and then gets every line", () =>
    Effect.gen(function* () {
      const total = 40_000
      const line = (i: number) => JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: String(i), pad: "x".repeat(1000) } } }) + "\n"
      let written = 0
      const server = yield* Effect.acquireRelease(Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
        const http = createServer((_req, res) => {
          res.writeHead(200, { "content-type": "application/json" })
          const more = () => {
            while (written < total) {
              written += 1
              if (!res.write(line(written))) return void res.once("drain", more)
            }
            res.end()
          }
          more()
        })
        http.listen(0, "127.0.0.1", () => resume(Effect.succeed({
          url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
          close: () => http.closeAllConnections()
        })))
      }), (s) => Effect.sync(() => s.close()))
      const api = yield* KubernetesApi.pipe(Effect.provide(apiFor(server.url)))
      const events = yield* api.watch(ingresses, { resourceVersion: "1", timeoutSeconds: 30, allowWatchBookmarks: true })
      const pull = yield* Stream.toPull(events)
      let received = (yield* pull).length
      yield* Effect.sleep("500 millis")
      expect(written).toBeLessThan(total / 2)
      for (;;) {
        const chunk = yield* Effect.option(pull)
        if (chunk._tag === "None") break
        received += chunk.value.length
      }
      expect([written, received]).toEqual([total, total])
    }).pipe(Effect.scoped), 20_000)
})
