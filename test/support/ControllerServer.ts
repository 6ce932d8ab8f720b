/**
 * The reference controller served in-process on a loopback port, for integration tests.
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import * as ReferenceController from "../../src/reference-controller/Server.js"
import type { TokenBindings } from "../../src/reference-controller/Tokens.js"

/** Serves the reference controller on 127.0.0.1:`port` (0: a free port) until the scope closes. */
export const serveController = (tokens: TokenBindings, port = 0) => Effect.gen(function* () {
  const context = yield* Layer.build(ReferenceController.layer(tokens).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { host: "127.0.0.1", port }))))
  const address = yield* HttpServer.HttpServer.pipe(Effect.map((server) => server.address), Effect.provide(context))
  const actualPort = address._tag === "TcpAddress" ? address.port : 0
  return { port: actualPort, url: `http://127.0.0.1:${actualPort}` }
})
