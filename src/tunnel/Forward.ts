/**
 * One tunnel request: an HTTP/2 stream from the controller, sent on to the upstream (the ingress
 * controller) over HTTP/1.1, the answer streamed back. Node streams carry the bytes here, not
 * Effect: this runs per request and per chunk, where a fiber per chunk would cost more than the
 * copy.
 *
 * What must hold: the upstream is the only address ever dialed; a body is never cut and then
 * ended as if whole (HTTP/2 emits 'end' even on a reset stream, so every end checks how the
 * stream closed); either side's reset aborts the other at once; bodies flow under backpressure.
 */
import { randomBytes } from "node:crypto"
import * as http from "node:http"
import { constants, type Http2Stream, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2"
import type { Duplex } from "node:stream"
import { downstreamResponseHeaders, endToEnd, upstreamRequestHeaders } from "./Headers.js"

/** The address every tunnel request goes to. */
export interface Upstream {
  readonly host: string
  readonly port: number
}

/** What the tunnel counts. */
export interface ForwardObserver {
  readonly started: () => void
  /** A request ended; `status` is what the controller got (0: the stream was reset). */
  readonly finished: (status: number) => void
  readonly bytes: (direction: "in" | "out", count: number) => void
}

export interface ForwardOptions {
  /** The upstream now; `undefined` while none is known. */
  readonly upstream: () => Upstream | undefined
  /** No response headers within this time: 504. */
  readonly timeoutMillis: number
  readonly agent: http.Agent
  readonly observer: ForwardObserver
}

/** The header that says why the tunnel answered instead of the upstream. */
export const tunnelErrorHeader = "x-pipeops-tunnel-error"

/** Whether an HTTP/2 stream's readable side ended because it finished, not because it was cut (reset, or the connection lost). */
export const endedCleanly = (stream: Http2Stream): boolean => !stream.aborted && (stream.rstCode === undefined || stream.rstCode === constants.NGHTTP2_NO_ERROR)

/** Answers in the tunnel's own name (no upstream response): `status` and why. */
const answer = (stream: ServerHttp2Stream, status: number, reason: string): number => {
  if (stream.destroyed || stream.closed) return 0
  if (stream.headersSent) {
    stream.destroy(new Error(reason))
    return 0
  }
  stream.respond({ ":status": status, [tunnelErrorHeader]: reason, "content-type": "text/plain; charset=utf-8" })
  stream.end(`${reason}\n`)
  return status
}

/** Copies `from` into `to` under backpressure, counting bytes; ending is the caller's decision (a plain `pipe()` ends `to` even when `from` was cut). */
export const copy = (from: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown }, to: NodeJS.WritableStream, count: (n: number) => void) => {
  from.on("data", (chunk: Buffer) => {
    count(chunk.length)
    if (!to.write(chunk)) from.pause()
  })
  to.on("drain", () => from.resume())
}

/** Sends one HTTP/2 stream to the upstream and streams the answer back. */
export const forward = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: ForwardOptions): void => {
  const { observer } = options
  observer.started()
  let status = 0
  let reported = false
  const finish = () => {
    if (reported) return
    reported = true
    observer.finished(status)
  }
  // A reset stream emits 'error'; one without a listener would end the process.
  stream.on("error", () => {})
  stream.once("close", finish)

  const method = headers[":method"] ?? "GET"
  const websocket = method === "CONNECT" && headers[":protocol"] === "websocket"
  if (method === "CONNECT" && !websocket) return void (status = answer(stream, 405, "connect_not_supported"))
  const upstream = options.upstream()
  if (upstream === undefined) return void (status = answer(stream, 502, "upstream_unreachable"))

  const requestHeaders = upstreamRequestHeaders(headers)
  if (websocket) {
    // RFC 8441 carries no key; the upstream's HTTP/1.1 handshake needs one.
    Object.assign(requestHeaders, { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": randomBytes(16).toString("base64") })
  }
  let request: http.ClientRequest
  try {
    request = http.request({
      host: upstream.host, port: upstream.port, method: websocket ? "GET" : method, path: headers[":path"] ?? "/",
      headers: requestHeaders, agent: options.agent, setHost: false
    })
  } catch {
    return void (status = answer(stream, 400, "invalid_request"))
  }

  let done = false
  // The upstream's time to answer counts once the request is sent: an upload may take longer.
  let timer: NodeJS.Timeout | undefined
  request.once("finish", () => {
    timer = setTimeout(() => {
      status = answer(stream, 504, "upstream_timeout")
      request.destroy()
    }, options.timeoutMillis)
  })
  request.on("error", () => {
    clearTimeout(timer)
    if (!done) status = answer(stream, 502, "upstream_unreachable")
  })
  // The controller reset the stream (its client left) or the connection died: abort upstream.
  stream.once("close", () => {
    clearTimeout(timer)
    if (!done) request.destroy()
  })

  request.on("response", (response) => {
    clearTimeout(timer)
    if (stream.destroyed || stream.closed) return void response.destroy()
    status = response.statusCode ?? 502
    const trailers = response.headers["trailer"] !== undefined
    stream.respond({ ":status": status, ...downstreamResponseHeaders(response.headers) }, { waitForTrailers: trailers })
    if (trailers) stream.once("wantTrailers", () => stream.sendTrailers(endToEnd(response.trailers)))
    copy(response, stream, (n) => observer.bytes("out", n))
    response.once("end", () => {
      if (!response.complete) return
      done = true
      stream.end()
    })
    // Cut upstream mid-body: reset, so the controller never sees a short body as complete.
    response.once("close", () => {
      if (!response.complete) stream.destroy(new Error("upstream closed mid-body"))
    })
  })

  if (websocket) {
    request.on("upgrade", (response, socket, head) => {
      clearTimeout(timer)
      done = true
      status = 200
      if (stream.destroyed || stream.closed) return void socket.destroy()
      stream.respond({ ":status": 200, ...downstreamResponseHeaders(response.headers, true) })
      if (head.length > 0) stream.write(head)
      splice(stream, socket, observer)
    })
    request.end()
    return
  }
  copy(stream, request, (n) => observer.bytes("in", n))
  stream.once("end", () => (endedCleanly(stream) ? request.end() : request.destroy()))
}

/** Pipes an upgraded connection both ways until either side closes; an abnormal end resets the other. */
const splice = (stream: ServerHttp2Stream, socket: Duplex, observer: ForwardObserver) => {
  copy(socket, stream, (n) => observer.bytes("out", n))
  copy(stream, socket, (n) => observer.bytes("in", n))
  socket.on("error", () => {})
  socket.once("end", () => stream.end())
  socket.once("close", (hadError: boolean) => {
    if (hadError) stream.destroy(new Error("upstream websocket failed"))
    else if (!stream.writableEnded) stream.end()
  })
  stream.once("end", () => (endedCleanly(stream) ? socket.end() : socket.destroy()))
  stream.once("close", () => {
    if (!endedCleanly(stream)) socket.destroy()
  })
}
