/**
 * One tunnel request at a time, `forward` behind a plain HTTP/2 server on loopback (the controller's
 * side played by an HTTP/2 client), to the upstream app.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as http from "node:http"
import * as http2 from "node:http2"
import type { AddressInfo } from "node:net"
import { forward, type ForwardObserver, type Upstream } from "../../src/tunnel/Forward.js"
import { startUpstream, type UpstreamApp } from "../support/Upstream.js"

let app: UpstreamApp
let server: http2.Http2Server
let session: http2.ClientHttp2Session
let upstream: Upstream | undefined
const finished: Array<number> = []
const observer: ForwardObserver = { started: () => {}, finished: (status) => finished.push(status), bytes: () => {} }

beforeAll(async () => {
  app = await startUpstream("forward")
  upstream = { host: "127.0.0.1", port: app.port }
  const agent = new http.Agent({ keepAlive: true })
  server = http2.createServer({ settings: { enableConnectProtocol: true } })
  server.on("stream", (stream, headers) => forward(stream, headers, { upstream: () => upstream, timeoutMillis: 300, agent, observer }))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})

afterAll(async () => {
  session.destroy()
  server.close()
  await app.close()
})

interface Answer { readonly status: number; readonly headers: http2.IncomingHttpHeaders; readonly body: string; readonly rstCode: number | undefined }

const send = (headers: http2.OutgoingHttpHeaders, body?: Buffer) => new Promise<Answer>((resolve) => {
  const stream = session.request({ ":authority": "shop.example.com", ...headers }, { endStream: body === undefined })
  let answer: http2.IncomingHttpHeaders = {}
  const chunks: Array<Buffer> = []
  stream.on("error", () => {})
  stream.once("response", (h) => (answer = h))
  stream.on("data", (chunk: Buffer) => chunks.push(chunk))
  stream.once("close", () => resolve({ status: Number(answer[":status"] ?? 0), headers: answer, body: Buffer.concat(chunks).toString(), rstCode: stream.rstCode }))
  if (body !== undefined) stream.end(body)
})

describe("forward (one HTTP/2 stream to the upstream)", () => {
  it("answers 504 upstream_timeout when no response headers come in time", async () => {
    const answer = await send({ ":path": "/slow/2000" })
    expect(answer.status).toBe(504)
    expect(answer.headers["x-pipeops-tunnel-error"]).toBe("upstream_timeout")
  })

  it("counts the upstream's time from the end of the request: an upload longer than the timeout is answered", async () => {
    const answer = await new Promise<Answer>((resolve) => {
      const stream = session.request({ ":method": "POST", ":path": "/echo?slow-upload", ":authority": "shop.example.com" })
      const chunks: Array<Buffer> = []
      let headers: http2.IncomingHttpHeaders = {}
      stream.on("error", () => {})
      stream.once("response", (h) => (headers = h))
      stream.on("data", (chunk: Buffer) => chunks.push(chunk))
      stream.once("close", () => resolve({ status: Number(headers[":status"] ?? 0), headers, body: Buffer.concat(chunks).toString(), rstCode: stream.rstCode }))
      stream.write("part one,")
      setTimeout(() => stream.write("part two,"), 250)
      setTimeout(() => stream.end("end"), 500)
    })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toMatchObject({ bodyBytes: "part one,part two,end".length })
  })

  it("answers 502 upstream_unreachable without an upstream", async () => {
    const saved = upstream
    upstream = undefined
    const answer = await send({ ":path": "/echo" })
    upstream = saved
    expect(answer.status).toBe(502)
    expect(answer.headers["x-pipeops-tunnel-error"]).toBe("upstream_unreachable")
  })

  it("resets the stream when the upstream cuts its body short", async () => {
    const answer = await send({ ":path": "/truncate" })
    expect(answer.status).toBe(200)
    expect(answer.rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR)
    expect(answer.body.length).toBeLessThan(1000)
    expect(finished.at(-1)).toBe(200)
  })

  it("aborts the upstream request, never completing it, when the controller resets an upload", async () => {
    const stream = session.request({ ":method": "POST", ":path": "/echo?reset", ":authority": "shop.example.com" })
    stream.on("error", () => {})
    stream.write(Buffer.alloc(64 * 1024, 1))
    await new Promise((resolve) => setTimeout(resolve, 100))
    // As the edge does: destroy sends RST_STREAM alone (close(CANCEL) would send END_STREAM first).
    stream.destroy(new Error("client left"))
    for (let i = 0; i < 100 && !app.aborted.includes("/echo?reset"); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(app.aborted).toContain("/echo?reset")
  })

  it("refuses a classic CONNECT without dialing anything", async () => {
    const before = app.received.length
    const answer = await send({ ":method": "CONNECT", ":authority": "10.0.0.1:22" })
    expect(answer.status).toBe(405)
    expect(app.received.length).toBe(before)
  })
})
