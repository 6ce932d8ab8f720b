/**
 * The reference controller on its sockets: the REST API and the tunnel endpoint on one port
 * (agents dial the tunnel at the API URL), and, when asked, the public edge on another.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Data, Effect, Ref, Runtime, type Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { trackConnections } from "../http/Connections.js"
import { makeEdge, type EndpointMap } from "./Edge.js"
import { makeControllerState, router, type ControllerState } from "./Server.js"
import type { TokenBindings } from "./Tokens.js"
import { makeTunnelEndpoint, type TunnelSessions } from "./TunnelEndpoint.js"

export interface ListenOptions {
  readonly host: string
  readonly port: number
  /** The public edge's port (0: a free one); absent: no edge. */
  readonly edgePort?: number | undefined
  /** Public endpoints the edge dials elsewhere (`203.0.113.45:80` → `127.0.0.1:8081`). */
  readonly resolve?: EndpointMap | undefined
}

export interface ServingController {
  readonly port: number
  readonly edgePort: number | undefined
  readonly state: ControllerState
  readonly tunnels: TunnelSessions
}

/** A port could not be listened on: the API's or the edge's. */
export class ListenFailed extends Data.TaggedError("ListenFailed")<{ readonly listener: "api" | "edge"; readonly address: string; readonly reason: string }> {
  override get message(): string {
    return `cannot listen on ${this.address}: ${this.reason}`
  }
}

/** Listens until the scope closes; closing ends every connection, upgraded ones too, so it never waits on a peer. */
const listen = (server: http.Server, listener: ListenFailed["listener"], host: string, port: number) => {
  const endConnections = trackConnections(server)
  return Effect.acquireRelease(
    Effect.async<number, ListenFailed>((resume) => {
      server.once("error", (error) => resume(Effect.fail(new ListenFailed({ listener, address: `${host}:${port}`, reason: error.message }))))
      server.listen(port, host, () => resume(Effect.succeed((server.address() as AddressInfo).port)))
    }),
    () => Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      endConnections()
    }))
}

const notFound = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

/** Serves a fresh, empty controller with `tokens` until the scope closes. */
export const serve = (tokens: TokenBindings, options: ListenOptions): Effect.Effect<ServingController, ListenFailed, Scope.Scope> =>
  Effect.gen(function* () {
    const state = yield* makeControllerState
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const tunnels = makeTunnelEndpoint(tokens, (message, fields) => runFork(Effect.logInfo(message).pipe(Effect.annotateLogs(fields))))
    const handler = yield* NodeHttpServer.makeHandler(router(state, tokens))
    const api = http.createServer((request, response) => tunnels.control(request, response) || handler(request, response))
    api.on("upgrade", (request, socket, head) => {
      if (!tunnels.handle(request, socket, head)) socket.end(notFound)
    })
    const port = yield* listen(api, "api", options.host, options.port)
    // Before the server closes: it waits for its connections, tunnels included.
    yield* Effect.addFinalizer(() => Effect.sync(tunnels.closeAll))
    if (options.edgePort === undefined) return { port, edgePort: undefined, state, tunnels }
    const edge = makeEdge(() => Effect.runSync(Ref.get(state.registry)), tunnels, options.resolve)
    const edgeServer = http.createServer(edge.request)
    edgeServer.on("upgrade", edge.upgrade)
    const edgePort = yield* listen(edgeServer, "edge", options.host, options.edgePort)
    return { port, edgePort, state, tunnels }
  })
