/**
 * A small HTTP app on loopback standing for a cluster's ingress controller: what tunnel and edge
 * tests, the demo and the benchmarks send traffic to. Every route says what it received, so a
 * test can check what crossed the tunnel.
 *
 * - `/echo`: JSON of the method, target, headers and the body's size and SHA-256;
 * - `/bytes/N`: N deterministic bytes (`Content-Length` set); `/chunked/N`: the same, chunked;
 * - `/gate`: writes `first`, waits for `release()`, then writes `second`;
 * - `/events`: an event stream's headers, then nothing until its client leaves;
 * - `/hold`: answers nothing; records when its client goes away (`aborted`);
 * - `/truncate`: announces 1,000 bytes, sends 500 and drops the connection;
 * - `/slow/MS`: answers after MS milliseconds;
 * - `/trailers`: a chunked body with a trailer;
 * - `/mirror`: the request body streamed back as it arrives;
 * - WebSocket upgrades on any path: an echo.
 */
import { createHash } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocketServer } from "ws"
import { trackConnections } from "../../src/http/Connections.js"

export interface UpstreamApp {
  readonly port: number
  readonly name: string
  /** Targets of requests whose client left before the answer. */
  readonly aborted: Array<string>
  /** Every request target received, in order. */
  readonly received: Array<string>
  /** Lets `/gate` write its second part. */
  readonly release: () => void
  readonly close: () => Promise<void>
}

/** Byte `i` of every generated body. */
const byteAt = (i: number) => (i * 31 + 7) & 0xff

/** The first `size` bytes of the generated body. */
export const generated = (size: number): Buffer => {
  const buffer = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) buffer[i] = byteAt(i)
  return buffer
}

export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex")

/** What `/echo` answers. */
export interface Echo {
  readonly app: string
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly bodyBytes: number
  readonly bodySha256: string
}

/** One MiB of the pattern, made once: it repeats every 256 bytes, so any body is slices of it. */
let patternBlock: Buffer | undefined

const sendBytes = (response: ServerResponse, size: number, chunked: boolean) => {
  response.writeHead(200, chunked ? { "content-type": "application/octet-stream" } : { "content-type": "application/octet-stream", "content-length": String(size) })
  const block = (patternBlock ??= generated(1024 * 1024))
  const step = block.length
  let sent = 0
  const pump = () => {
    while (sent < size) {
      const piece = block.subarray(0, Math.min(step, size - sent))
      sent += piece.length
      if (!response.write(piece)) return void response.once("drain", pump)
    }
    response.end()
  }
  pump()
}

/** Starts the app on 127.0.0.1 (a free port); `name` appears in its answers. */
export const startUpstream = (name = "upstream"): Promise<UpstreamApp> => new Promise((resolve) => {
  const aborted: Array<string> = []
  const received: Array<string> = []
  let release = () => {}
  const gate = new Promise<void>((done) => (release = done))
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? "/"
    received.push(url)
    const path = url.split("?")[0] ?? "/"
    response.once("close", () => {
      if (!response.writableFinished) aborted.push(url)
    })
    const sized = /^\/(bytes|chunked)\/(\d+)$/.exec(path)
    if (sized !== null) return void request.resume().once("end", () => sendBytes(response, Number(sized[2]), sized[1] === "chunked"))
    if (path === "/gate") {
      response.writeHead(200, { "content-type": "text/plain" })
      response.write("first")
      return void gate.then(() => response.end("second"))
    }
    if (path === "/hold") return void request.resume()
    if (path === "/events") return void response.writeHead(200, { "content-type": "text/event-stream" }).flushHeaders()
    if (path === "/truncate") {
      response.writeHead(200, { "content-length": "1000" })
      return void response.write(Buffer.alloc(500, 1), () => response.socket?.destroy())
    }
    const slow = /^\/slow\/(\d+)$/.exec(path)
    if (slow !== null) return void setTimeout(() => response.end(`${name} was slow`), Number(slow[1]))
    if (path === "/mirror") {
      response.writeHead(200, { "content-type": "application/octet-stream" })
      return void request.pipe(response)
    }
    if (path === "/trailers") {
      response.writeHead(200, { trailer: "x-checksum" })
      response.write("body")
      response.addTrailers({ "x-checksum": sha256("body") })
      return void response.end()
    }
    const hash = createHash("sha256")
    let bytes = 0
    request.on("data", (chunk: Buffer) => {
      bytes += chunk.length
      hash.update(chunk)
    })
    request.once("end", () => {
      const echo: Echo = { app: name, method: request.method ?? "", url, headers: request.headers, bodyBytes: bytes, bodySha256: hash.digest("hex") }
      response.writeHead(200, { "content-type": "application/json", connection: "keep-alive, x-hop", "x-hop": "1", "keep-alive": "timeout=5" })
      response.end(JSON.stringify(echo))
    })
  }
  const server = createServer(handle)
  // WebSocket connections too: closing never waits on a client.
  const endConnections = trackConnections(server)
  const sockets = new WebSocketServer({ server, perMessageDeflate: false, handleProtocols: (offered) => [...offered][0] ?? false })
  sockets.on("connection", (socket) => socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary })))
  server.listen(0, "127.0.0.1", () => resolve({
    port: (server.address() as AddressInfo).port, name, aborted, received, release: () => release(),
    close: () => new Promise((done) => {
      sockets.close()
      server.close(() => done())
      endConnections()
    })
  }))
})
