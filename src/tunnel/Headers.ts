/**
 * Headers across the tunnel's two protocols. Hop-by-hop headers describe one connection and are
 * dropped in both directions (HTTP/2 refuses them outright): `Connection` and every header it
 * names, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, and `TE` unless it is
 * `trailers`. Everything else passes unchanged.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http"

const alwaysHopByHop: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings"])

type Headers = Readonly<Record<string, string | ReadonlyArray<string> | number | undefined>>

const joined = (value: Headers[string]): string =>
  value === undefined ? "" : typeof value === "string" ? value : typeof value === "number" ? String(value) : value.join(",")

/** The header names that belong to one hop: the fixed ones and those `Connection` names. */
const hopByHopOf = (headers: Headers): ReadonlySet<string> => {
  const named = joined(headers["connection"]).split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "")
  return named.length === 0 ? alwaysHopByHop : new Set([...alwaysHopByHop, ...named])
}

/** `headers` without hop-by-hop ones, pseudo-headers, and those in `drop`. */
export const endToEnd = (headers: Headers, drop: ReadonlySet<string> = new Set()): OutgoingHttpHeaders => {
  const hop = hopByHopOf(headers)
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":") || hop.has(name) || drop.has(name)) continue
    if (name === "te" && joined(value).trim().toLowerCase() !== "trailers") continue
    out[name] = typeof value === "object" ? [...value] : value
  }
  return out
}

/** The upstream request's headers from an HTTP/2 request: end-to-end ones, `Host` from `:authority`. */
export const upstreamRequestHeaders = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const authority = headers[":authority"] ?? headers["host"]
  const out = endToEnd(headers, new Set(["host"]))
  if (typeof authority === "string") out["host"] = authority
  return out
}

/** What a WebSocket's 101 passes on as the tunnel's 200: the edge computes its own accept key. */
const handshakeOnly: ReadonlySet<string> = new Set(["sec-websocket-accept"])

/** The HTTP/2 response headers of an upstream response (`websocket`: its 101 answer). */
export const downstreamResponseHeaders = (headers: IncomingHttpHeaders, websocket = false): OutgoingHttpHeaders =>
  endToEnd(headers, websocket ? handshakeOnly : undefined)
