/**
 * The tunnel end to end, with real sockets: public requests to the reference controller's edge
 * cross the agent's tunnel (the built program) to an app standing for the private cluster's
 * ingress controller.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as http from "node:http"
import type * as http2 from "node:http2"
import { Effect } from "effect"
import { WebSocket } from "ws"
import { startConnectProxy } from "../support/ConnectProxy.js"
import { freePort } from "../support/Ports.js"
import { adminOf, callEdge, startTunnelRig, tunnelHost, until, type TunnelRig } from "../support/TunnelRig.js"
import { generated, sha256, type Echo } from "../support/Upstream.js"

let rig: TunnelRig

const routed = async (r: TunnelRig) => {
  await until(() => callEdge(r.edgePort, { path: "/echo" }), (answer) => answer.status === 200, 20_000)
}

beforeAll(async () => {
  rig = await startTunnelRig()
  await routed(rig)
}, 30_000)

afterAll(() => rig.close())

const echo = (answer: { body: Buffer }) => JSON.parse(answer.body.toString("utf8")) as Echo

describe("tunnel (built agent, reference controller edge, loopback)", () => {
  it("keeps Host, strips hop-by-hop headers both ways, adds X-Forwarded-*", async () => {
    const answer = await callEdge(rig.edgePort, {
      path: "/echo?q=1", headers: { connection: "x-private", "x-private": "secret", "keep-alive": "timeout=1", te: "gzip", "x-kept": "yes" }
    })
    expect(answer.status).toBe(200)
    const seen = echo(answer)
    expect(seen.app).toBe("private-cluster")
    expect(seen.url).toBe("/echo?q=1")
    expect(seen.headers["host"]).toBe(tunnelHost)
    expect(seen.headers["x-kept"]).toBe("yes")
    expect(seen.headers["x-private"]).toBeUndefined()
    expect(seen.headers["te"]).toBeUndefined()
    expect(seen.headers["x-forwarded-host"]).toBe(tunnelHost)
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1")
    expect(seen.headers["x-forwarded-proto"]).toBe("http")
    // The upstream's `Connection: keep-alive, x-hop` named x-hop as hop-by-hop.
    expect(answer.headers["x-hop"]).toBeUndefined()
  })

  it("carries a 10 MiB upload and a 50 MiB download intact", async () => {
    const upload = generated(10 * 1024 * 1024)
    const up = await callEdge(rig.edgePort, { method: "POST", path: "/echo", body: upload })
    expect(echo(up)).toMatchObject({ bodyBytes: upload.length, bodySha256: sha256(upload) })
    const size = 50 * 1024 * 1024
    const down = await callEdge(rig.edgePort, { path: `/bytes/${size}` })
    expect(down.complete).toBe(true)
    expect(down.body.length).toBe(size)
    expect(sha256(down.body)).toBe(sha256(generated(size)))
  }, 30_000)

  it("streams a response as it is written", async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const request = http.get({ host: "127.0.0.1", port: rig.edgePort, path: "/gate", headers: { host: tunnelHost }, agent: false }, (response) => {
        response.once("data", (chunk: Buffer) => {
          resolve(chunk.toString())
          rig.upstream.release()
          response.resume()
        })
      })
      request.once("error", reject)
    })
    // The upstream writes its second part only after the client got the first.
    expect(first).toBe("first")
  })

  it("passes a response's headers before its first byte (an idle event stream)", async () => {
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.get({ host: "127.0.0.1", port: rig.edgePort, path: "/events", headers: { host: tunnelHost }, agent: false }, (response) => {
        resolve(response)
        request.destroy()
      })
      request.once("error", reject)
    })
    expect(answer.statusCode).toBe(200)
    expect(answer.headers["content-type"]).toBe("text/event-stream")
  })

  it("passes trailers", async () => {
    const trailers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port: rig.edgePort, path: "/trailers", headers: { host: tunnelHost, te: "trailers" }, agent: false }, (response) => {
        response.resume()
        response.once("end", () => resolve(response.trailers))
      }).once("error", reject)
    })
    expect(trailers["x-checksum"]).toBe(sha256("body"))
  })

  it("answers 200 concurrent requests of 1 MiB each", async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, () => callEdge(rig.edgePort, { path: `/bytes/${1024 * 1024}` })))
    expect(answers.filter((a) => a.status === 200 && a.complete && a.body.length === 1024 * 1024)).toHaveLength(200)
  }, 30_000)

  it("echoes 8 concurrent 10 MiB uploads both ways at once without stalling", async () => {
    const body = generated(10 * 1024 * 1024)
    const answers = await Promise.all(Array.from({ length: 8 }, () => callEdge(rig.edgePort, { method: "POST", path: `/bytes/${body.length}`, body })))
    expect(answers.every((a) => a.complete && a.body.length === body.length)).toBe(true)
  }, 30_000)

  it("aborts the upstream request when the client leaves", async () => {
    const request = http.get({ host: "127.0.0.1", port: rig.edgePort, path: "/hold?abort=1", headers: { host: tunnelHost }, agent: false })
    request.once("error", () => {})
    await until(async () => rig.upstream.received.includes("/hold?abort=1"), (seen) => seen)
    request.destroy()
    await until(async () => rig.upstream.aborted.includes("/hold?abort=1"), (gone) => gone)
  })

  it("aborts the upstream request, never completing it, when a client's upload is cut short", async () => {
    const request = http.request({ host: "127.0.0.1", port: rig.edgePort, method: "POST", path: "/echo?cut", headers: { host: tunnelHost, "content-length": String(4 * 1024 * 1024) }, agent: false })
    request.once("error", () => {})
    request.write(Buffer.alloc(1024 * 1024, 7))
    await until(async () => rig.upstream.received.includes("/echo?cut"), (seen) => seen)
    request.destroy()
    await until(async () => rig.upstream.aborted.includes("/echo?cut"), (gone) => gone)
  })

  it("never delivers a body cut upstream as complete", async () => {
    const answer = await callEdge(rig.edgePort, { path: "/truncate" })
    expect(answer.complete).toBe(false)
    expect(answer.body.length).toBeLessThan(1000)
  })

  it("carries a WebSocket (extended CONNECT to the agent, Upgrade to the upstream)", async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${rig.edgePort}/chat`, ["chat.v1"], { headers: { host: tunnelHost } })
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once("open", () => socket.send("hello through the tunnel"))
      socket.once("message", (data) => resolve(String(data)))
      socket.once("error", reject)
    })
    expect(reply).toBe("hello through the tunnel")
    expect(socket.protocol).toBe("chat.v1")
    socket.close()
  })

  it("dials nothing but the upstream, whatever a request names", async () => {
    // As the controller: requests straight over a tunnel session, naming other places.
    const session = rig.controller.tunnels.pick("uid-tunnel")
    if (session === undefined) throw new Error("no tunnel session")
    const send = (headers: http2.OutgoingHttpHeaders) => new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const stream = session.request(headers, { endStream: true })
      const chunks: Array<Buffer> = []
      let answer: http2.IncomingHttpHeaders = {}
      stream.once("response", (h) => (answer = h))
      stream.on("data", (chunk: Buffer) => chunks.push(chunk))
      stream.once("end", () => resolve({ status: Number(answer[":status"]), headers: answer, body: Buffer.concat(chunks).toString() }))
      stream.once("error", reject)
    })
    const elsewhere = await send({ ":method": "GET", ":path": "/echo?x", ":authority": "169.254.169.254:80", ":scheme": "http" })
    expect(JSON.parse(elsewhere.body)).toMatchObject({ app: "private-cluster", url: "/echo?x", headers: { host: "169.254.169.254:80" } })
    const connect = await send({ ":method": "CONNECT", ":authority": "169.254.169.254:80" })
    expect(connect.status).toBe(405)
    expect(connect.headers["x-pipeops-tunnel-error"]).toBe("connect_not_supported")
    // Through the edge, an absolute-form target is routed by Host and reaches the upstream as a path.
    const absolute = await callEdge(rig.edgePort, { path: "http://169.254.169.254:80/echo?meta" })
    expect(echo(absolute)).toMatchObject({ app: "private-cluster", url: "/echo?meta" })
  })

  it("redials a dropped connection", async () => {
    const metric = async () => {
      const text = (await adminOf(rig)("/metrics")).body
      return Number(/pipeops_agent_tunnel_connections (\d+)/.exec(text)?.[1] ?? -1)
    }
    await until(metric, (n) => n === 2)
    rig.controller.tunnels.dropAll()
    await until(() => callEdge(rig.edgePort, { path: "/echo" }), (a) => a.status === 200, 5_000)
    await until(metric, (n) => n === 2, 5_000)
    expect(rig.agent.output()).toContain('"msg":"tunnel disconnected"')
  })

  it("reports the tunnel in /status and /metrics", async () => {
    const status = JSON.parse((await adminOf(rig)("/status")).body) as { routing_mode: string; tunnel: Record<string, unknown> }
    expect(status.routing_mode).toBe("tunnel")
    expect(status.tunnel).toMatchObject({ connections: 2, upstream: `127.0.0.1:${rig.upstream.port}`, streams_active: expect.any(Number) })
    const metrics = (await adminOf(rig)("/metrics")).body
    expect(metrics).toMatch(/pipeops_agent_tunnel_requests_total\{code="200"\} \d+/)
    expect(metrics).toMatch(/pipeops_agent_tunnel_bytes_total\{direction="out"\} \d+/)
    expect(metrics).toContain("pipeops_agent_tunnel_reconnects_total")
  })

  it("lets a response in flight finish on SIGTERM (GOAWAY, then drain)", async () => {
    const slow = callEdge(rig.edgePort, { path: "/slow/800" })
    await until(async () => rig.upstream.received.includes("/slow/800"), (seen) => seen)
    const exited = rig.agent.stop("SIGTERM")
    const answer = await slow
    expect(answer.status).toBe(200)
    expect(answer.body.toString()).toBe("private-cluster was slow")
    expect(await exited).toBe(0)
  })
})

describe("tunnel failures (built agent)", () => {
  it("answers 502 upstream_unreachable when the upstream is down", async () => {
    const closed = await Effect.runPromise(freePort())
    const down = await startTunnelRig({ upstreamPort: closed })
    try {
      await until(() => callEdge(down.edgePort, { path: "/echo" }), (a) => a.status !== 404 && a.headers["x-pipeops-edge-error"] === undefined, 20_000)
      const answer = await callEdge(down.edgePort, { path: "/echo" })
      expect(answer.status).toBe(502)
      expect(answer.headers["x-pipeops-tunnel-error"]).toBe("upstream_unreachable")
    } finally {
      await down.close()
    }
  }, 30_000)

  it("dials the tunnel and calls the controller through HTTP_PROXY", async () => {
    const proxy = await startConnectProxy()
    const proxied = await startTunnelRig({ env: { HTTP_PROXY: proxy.url, http_proxy: "", NO_PROXY: "", no_proxy: "" } })
    try {
      await routed(proxied)
      const controller = `127.0.0.1:${proxied.controller.port}`
      // Two tunnel connections and the REST calls' keep-alive connection(s), all through the proxy.
      expect(proxy.connects.filter((c) => c === controller).length).toBeGreaterThanOrEqual(3)
      expect(proxy.connects.every((c) => c === controller)).toBe(true)
    } finally {
      await proxied.close()
      await proxy.close()
    }
  }, 30_000)

  it("with a refused token: not ready, says why, and shows the token nowhere", async () => {
    const token = "wrong-token-7f3a9c"
    const refused = await startTunnelRig({ token })
    try {
      const ready = await until(() => adminOf(refused)("/readyz"), (r) => r.body.includes("tunnel not connected: controller refused the token"), 20_000)
      expect(ready.status).toBe(503)
      const outputs = [refused.agent.output(), ready.body, (await adminOf(refused)("/status")).body, (await adminOf(refused)("/metrics")).body]
      for (const text of outputs) expect(text).not.toContain(token)
      expect(refused.agent.output()).toContain('"msg":"cannot open tunnel"')
    } finally {
      await refused.close()
    }
  }, 30_000)
})
