/**
 * One tunnel connection, agent side: a WebSocket dialed to the controller, an HTTP/2 server
 * session over its bytes, each stream forwarded to the upstream. `open` dials and returns the
 * live connection in a scope; closing the scope sends GOAWAY and gives the streams in flight
 * `drainTimeout` before the session is destroyed.
 */
import { Data, Duration, Effect, Redacted, type Scope } from "effect"
import type * as http from "node:http"
import * as http2 from "node:http2"
import type { Duplex } from "node:stream"
import { WebSocket } from "ws"
import { forward, type ForwardOptions } from "./Forward.js"
import { webSocketDuplex } from "./WebSocketDuplex.js"

/** The WebSocket subprotocol of the tunnel: HTTP/2 with prior knowledge over binary messages. */
export const tunnelSubprotocol = "pipeops-tunnel-h2.v1"

/** The controller's path for tunnel connections. */
export const tunnelPath = "/api/v1/gateway/tunnel"

/** Flow-control windows: a stream's, and the whole connection's (HTTP/2 starts both at 64 KiB). */
export const streamWindow = 1024 * 1024
export const connectionWindow = 16 * 1024 * 1024
/** Memory an HTTP/2 session may hold, in MB: the default 10 refuses streams under 1,000 concurrent downloads. */
export const sessionMemoryMb = 256
/** Largest WebSocket message either end accepts. */
export const maxPayload = 8 * 1024 * 1024

/** The controller refused the token (401) or its cluster (403). */
export class TunnelRefused extends Data.TaggedError("TunnelRefused")<{ readonly status: number }> {
  override get message(): string {
    return this.status === 403 ? "controller refused the token for this cluster (403)" : "controller refused the token (401)"
  }
}

/** No connection, or it ended: why, in words without secrets. */
export class TunnelDown extends Data.TaggedError("TunnelDown")<{
  /** `dial`: no connection was made; `lost`: it closed or broke; `ping`: its PING went unanswered. */
  readonly kind: "dial" | "lost" | "ping"
  readonly reason: string
}> {
  override get message(): string {
    return this.reason
  }
}

export interface DialSettings {
  /** `ws:` or `wss:` URL of the tunnel endpoint. */
  readonly url: URL
  readonly token: Redacted.Redacted<string>
  readonly clusterUuid: string
  readonly agentId: string
  readonly handshakeTimeout: Duration.Duration
  /** The HTTP agent to dial through (a proxy's), if any. */
  readonly agent: http.Agent | undefined
}

/** The tunnel URL for the controller's API URL: `ws:`/`wss:` for `http:`/`https:`. */
export const tunnelUrl = (apiUrl: URL): URL => {
  const url = new URL(apiUrl.href.replace(/\/+$/, "") + tunnelPath)
  url.protocol = apiUrl.protocol === "https:" ? "wss:" : "ws:"
  return url
}

/**
 * A WebSocket accepted by the controller, as a byte stream. The stream is made in the 'open'
 * handler itself: the controller's first bytes may arrive with the handshake, and a message
 * emitted before anyone listens is gone.
 */
const dial = (settings: DialSettings) => Effect.async<{ readonly socket: WebSocket; readonly bytes: Duplex }, TunnelRefused | TunnelDown>((resume) => {
  let socket: WebSocket
  try {
    socket = new WebSocket(settings.url, [tunnelSubprotocol], {
      headers: {
        authorization: `Bearer ${Redacted.value(settings.token)}`,
        "x-pipeops-cluster-uuid": settings.clusterUuid,
        "x-pipeops-agent-id": settings.agentId
      },
      perMessageDeflate: false, maxPayload, followRedirects: false,
      handshakeTimeout: Duration.toMillis(settings.handshakeTimeout),
      ...(settings.agent === undefined ? {} : { agent: settings.agent })
    })
  } catch (error) {
    return resume(Effect.fail(new TunnelDown({ kind: "dial", reason: `cannot dial: ${error instanceof Error ? error.message : String(error)}` })))
  }
  socket.once("open", () => resume(socket.protocol === tunnelSubprotocol
    ? Effect.succeed({ socket, bytes: webSocketDuplex(socket) })
    : Effect.fail(new TunnelDown({ kind: "dial", reason: "the controller did not accept the tunnel subprotocol" }))))
  socket.once("unexpected-response", (request, response) => {
    const status = response.statusCode ?? 0
    response.resume()
    request.destroy()
    resume(Effect.fail(status === 401 || status === 403 ? new TunnelRefused({ status }) : new TunnelDown({ kind: "dial", reason: `controller answered ${status}` })))
  })
  socket.on("error", (error) => resume(Effect.fail(new TunnelDown({ kind: "dial", reason: `cannot dial: ${error.message}` }))))
  return Effect.sync(() => socket.terminate())
})

/** An HTTP/2 session that lives on the connection. */
export interface LiveConnection {
  readonly session: http2.ServerHttp2Session
  /** Fails with why the connection ended; never succeeds. */
  readonly closed: Effect.Effect<never, TunnelDown>
  /** One PING's round trip; fails when none comes back in `timeout`. */
  readonly ping: (timeout: Duration.Duration) => Effect.Effect<Duration.Duration, TunnelDown>
}

/** Dials, and serves HTTP/2 over the connection until the scope closes. */
export const open = (settings: DialSettings, forwarding: ForwardOptions, drainTimeout: Duration.Duration): Effect.Effect<LiveConnection, TunnelRefused | TunnelDown, Scope.Scope> =>
  Effect.gen(function* () {
    const { bytes } = yield* Effect.acquireRelease(dial(settings), ({ socket }) => Effect.sync(() => socket.close(1000)))
    const session = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const session = http2.performServerHandshake(bytes, {
          settings: { enableConnectProtocol: true, initialWindowSize: streamWindow, maxConcurrentStreams: 10_000 },
          maxSessionMemory: sessionMemoryMb
        })
        session.setLocalWindowSize(connectionWindow)
        session.on("stream", (stream, headers) => forward(stream, headers, forwarding))
        // Errors end the session; `closed` reports them.
        session.on("error", () => {})
        return session
      }),
      (session) => drain(session, drainTimeout))
    const closed = Effect.async<never, TunnelDown>((resume) => {
      const ended = (reason: string) => resume(Effect.fail(new TunnelDown({ kind: "lost", reason })))
      if (session.destroyed) return ended("connection closed")
      let failure: string | undefined
      session.once("error", (error: Error) => (failure = error.message))
      session.once("goaway", () => (failure ??= "controller sent GOAWAY"))
      session.once("close", () => ended(failure ?? "connection closed"))
    })
    const ping = (timeout: Duration.Duration) => Effect.async<Duration.Duration, TunnelDown>((resume) => {
      const sent = session.ping((error, duration) =>
        resume(error === null ? Effect.succeed(Duration.millis(duration)) : Effect.fail(new TunnelDown({ kind: "ping", reason: `ping failed: ${error.message}` }))))
      if (!sent) resume(Effect.fail(new TunnelDown({ kind: "ping", reason: "too many pings unanswered" })))
    }).pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new TunnelDown({ kind: "ping", reason: `no ping answer within ${Duration.format(timeout)}` }) }))
    return { session, closed, ping }
  })

/**
 * GOAWAY, then wait for the streams in flight (at most `timeout`), then destroy: a destroy
 * without an error would end the cut streams as if they were complete.
 */
const drain = (session: http2.ServerHttp2Session, timeout: Duration.Duration) => Effect.async<void>((resume) => {
  if (session.destroyed) return resume(Effect.void)
  const timer = setTimeout(() => session.destroy(new Error("tunnel closing")), Duration.toMillis(timeout))
  session.once("close", () => {
    clearTimeout(timer)
    resume(Effect.void)
  })
  session.close()
})
