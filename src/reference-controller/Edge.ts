/**
 * The reference controller's public edge: requests are routed by Host and path through the
 * registry; direct routes are proxied over HTTP/1.1 to their `public_endpoint`, tunnel routes
 * over one of the owning cluster's tunnel sessions. No route → 404; a tunnel route with no
 * session → 502 `x-pipeops-edge-error: tunnel_unavailable`. Bodies stream both ways; a client
 * that leaves resets the request behind it, and a body cut anywhere is cut for the client too.
 */
import { createHash } from "node:crypto"
import * as http from "node:http"
import type { ClientHttp2Stream, IncomingHttpHeaders } from "node:http2"
import type { Duplex } from "node:stream"
import type { RegisterRouteRequest } from "../controller/Wire.js"
import { splitEndpoint } from "../domain/Addresses.js"
import { copy, endedCleanly } from "../tunnel/Forward.js"
import { endToEnd } from "../tunnel/Headers.js"
import { findRoute } from "./EdgeRouting.js"
import type { RegistryState } from "./Registry.js"
import type { TunnelSessions } from "./TunnelEndpoint.js"

export const edgeErrorHeader = "x-pipeops-edge-error"
/** Added to every routed answer: how the edge reached the cluster (`direct` or `tunnel`). */
export const edgeRouteHeader = "x-pipeops-edge-route"

/** Public endpoints mapped to addresses to dial instead (as `curl --resolve` does), for demos on loopback. */
export type EndpointMap = ReadonlyMap<string, string>

const none = () => {}

const refuse = (response: http.ServerResponse, status: number, reason: string) => {
  if (response.headersSent) return void response.destroy()
  response.writeHead(status, { [edgeErrorHeader]: reason, "content-type": "text/plain; charset=utf-8" }).end(`${reason}\n`)
}

/** The request's end-to-end headers plus `X-Forwarded-*`. */
const forwardedHeaders = (request: http.IncomingMessage) => {
  const headers = endToEnd(request.headers, new Set(["host"]))
  const client = request.socket.remoteAddress ?? ""
  const prior = request.headers["x-forwarded-for"]
  headers["x-forwarded-for"] = prior === undefined ? client : `${String(prior)}, ${client}`
  headers["x-forwarded-proto"] = "http"
  headers["x-forwarded-host"] = request.headers.host ?? ""
  return headers
}


/** Over a tunnel session: one HTTP/2 stream per request. */
const viaTunnel = (request: http.IncomingMessage, response: http.ServerResponse, stream: ClientHttp2Stream) => {
  let finished = false
  stream.on("error", none)
  copy(request, stream, none)
  // A client's upload cut short is reset, never ended: the agent must not see it as complete.
  request.once("end", () => (request.complete ? stream.end() : stream.destroy(new Error("client aborted"))))
  response.once("close", () => {
    if (!finished) stream.destroy(new Error("client left"))
  })
  stream.once("response", (headers: IncomingHttpHeaders) => {
    const status = Number(headers[":status"] ?? 502)
    // Headers go out as they arrive: a streamed answer (server-sent events) is not held back until
    // its first byte, and a cut that follows reaches the client as a cut body, not a hang-up.
    response.writeHead(status, { ...endToEnd(headers), [edgeRouteHeader]: "tunnel" }).flushHeaders()
    copy(stream, response, none)
    stream.once("trailers", (trailers: IncomingHttpHeaders) => response.addTrailers(endToEnd(trailers) as Record<string, string>))
    stream.once("end", () => {
      if (!endedCleanly(stream)) return void response.destroy()
      finished = true
      response.end()
    })
  })
  stream.once("close", () => {
    if (finished) return
    if (!response.headersSent) refuse(response, 502, "tunnel_stream_failed")
    else response.destroy()
  })
}

/** Over HTTP/1.1 to a direct route's public endpoint. */
const viaEndpoint = (request: http.IncomingMessage, response: http.ServerResponse, route: RegisterRouteRequest, resolve: EndpointMap) => {
  const endpoint = splitEndpoint(resolve.get(route.publicEndpoint) ?? route.publicEndpoint)
  if (endpoint === undefined) return refuse(response, 502, "upstream_unreachable")
  const upstream = http.request({
    host: endpoint.host, port: endpoint.port,
    method: request.method, path: request.url, setHost: false, headers: { ...forwardedHeaders(request), host: request.headers.host ?? route.hostname }
  })
  let finished = false
  upstream.on("error", () => (finished ? undefined : refuse(response, 502, "upstream_unreachable")))
  copy(request, upstream, none)
  request.once("end", () => (request.complete ? upstream.end() : upstream.destroy()))
  response.once("close", () => {
    if (!finished) upstream.destroy()
  })
  upstream.once("response", (answer) => {
    response.writeHead(answer.statusCode ?? 502, { ...endToEnd(answer.headers), [edgeRouteHeader]: "direct" }).flushHeaders()
    copy(answer, response, none)
    answer.once("end", () => {
      if (!answer.complete) return void response.destroy()
      finished = true
      response.end()
    })
    answer.once("close", () => (answer.complete ? undefined : response.destroy()))
  })
}

/** The tunnel stream for a route, or the reason there is none. */
const openStream = (tunnels: TunnelSessions, route: RegisterRouteRequest, headers: http.OutgoingHttpHeaders, endStream: boolean) => {
  const session = tunnels.pick(route.clusterUuid)
  if (session === undefined) return undefined
  try {
    return session.request(headers, { endStream })
  } catch {
    return undefined
  }
}

const accept = (key: string) => createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64")

/** A request target in origin form: an absolute-form target (`http://host/x`) keeps only its path and query. */
const originForm = (target: string | undefined): string => {
  if (target === undefined || target === "") return "/"
  if (target.startsWith("/")) return target
  try {
    const url = new URL(target)
    return `${url.pathname}${url.search}`
  } catch {
    return "/"
  }
}

/** The edge's request and upgrade handlers over the registry and the tunnel sessions. */
export const makeEdge = (registry: () => RegistryState, tunnels: TunnelSessions, resolve: EndpointMap = new Map()) => ({
  request: (request: http.IncomingMessage, response: http.ServerResponse) => {
    request.url = originForm(request.url)
    const route = findRoute(registry(), request.headers.host ?? "", request.url ?? "/")
    if (route._tag === "None") return refuse(response, 404, "no_route")
    if (route.value.routingMode === "direct") return viaEndpoint(request, response, route.value, resolve)
    const bodyless = request.headers["content-length"] === "0" || (request.headers["content-length"] === undefined && request.headers["transfer-encoding"] === undefined)
    const stream = openStream(tunnels, route.value, {
      ":method": request.method ?? "GET", ":path": request.url ?? "/", ":authority": request.headers.host ?? route.value.hostname,
      ":scheme": "http", ...forwardedHeaders(request)
    }, bodyless)
    if (stream === undefined) return refuse(response, 502, "tunnel_unavailable")
    viaTunnel(request, response, stream)
  },
  /** A WebSocket handshake for a tunnel route: an extended CONNECT, answered 101 once the agent's upstream said 101. */
  upgrade: (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", none)
    request.url = originForm(request.url)
    const fail = (status: number, reason: string) => socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${edgeErrorHeader}: ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`)
    const key = request.headers["sec-websocket-key"]
    const route = findRoute(registry(), request.headers.host ?? "", request.url ?? "/")
    if (route._tag === "None") return fail(404, "no_route")
    if (route.value.routingMode !== "tunnel" || key === undefined) return fail(501, "websocket_not_supported")
    const stream = openStream(tunnels, route.value, {
      ":method": "CONNECT", ":protocol": "websocket", ":path": request.url ?? "/", ":authority": request.headers.host ?? route.value.hostname,
      ":scheme": "http", ...endToEnd(forwardedHeaders(request), new Set(["sec-websocket-key"]))
    }, false)
    if (stream === undefined) return fail(502, "tunnel_unavailable")
    let upgraded = false
    stream.on("error", none)
    stream.once("response", (headers: IncomingHttpHeaders) => {
      const status = Number(headers[":status"] ?? 502)
      upgraded = status === 200
      if (!upgraded) {
        stream.destroy()
        return fail(status === 0 ? 502 : status, "websocket_refused")
      }
      const extra = Object.entries(endToEnd(headers)).map(([name, value]) => `${name}: ${String(value)}\r\n`).join("")
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept(key)}\r\n${extra}\r\n`)
      if (head.length > 0) stream.write(head)
      copy(socket, stream, none)
      copy(stream, socket, none)
      socket.once("end", () => stream.end())
      stream.once("end", () => (endedCleanly(stream) ? socket.end() : socket.destroy()))
      socket.once("close", () => stream.destroy())
      stream.once("close", () => socket.destroy())
    })
    stream.once("close", () => {
      if (!upgraded && !socket.destroyed) fail(502, "tunnel_stream_failed")
    })
  }
})
