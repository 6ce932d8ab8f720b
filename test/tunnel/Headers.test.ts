import { describe, expect, it } from "@effect/vitest"
import { downstreamResponseHeaders, endToEnd, upstreamRequestHeaders } from "../../src/tunnel/Headers.js"

describe("tunnel headers", () => {
  it("drops hop-by-hop headers, those Connection names, and TE unless it is trailers", () => {
    expect(endToEnd({
      connection: "keep-alive, X-Private", "x-private": "1", "keep-alive": "timeout=5", "proxy-connection": "keep-alive",
      "transfer-encoding": "chunked", upgrade: "h2c", "http2-settings": "AAA", te: "gzip", "x-kept": "yes", "set-cookie": ["a=1", "b=2"]
    })).toEqual({ "x-kept": "yes", "set-cookie": ["a=1", "b=2"] })
    expect(endToEnd({ te: "trailers" })).toEqual({ te: "trailers" })
    expect(endToEnd({ te: " Trailers " })).toEqual({ te: " Trailers " })
  })

  it("takes Host from :authority and drops pseudo-headers on the way upstream", () => {
    expect(upstreamRequestHeaders({ ":method": "GET", ":path": "/x", ":authority": "shop.example.com", ":scheme": "http", host: "evil.example", accept: "*/*" }))
      .toEqual({ host: "shop.example.com", accept: "*/*" })
    // A client that sent `host` instead of `:authority` (Node does when given one).
    expect(upstreamRequestHeaders({ ":method": "GET", ":path": "/", host: "shop.example.com" })).toEqual({ host: "shop.example.com" })
  })

  it("passes a WebSocket 101's headers but the accept key, which the edge computes", () => {
    expect(downstreamResponseHeaders({ upgrade: "websocket", connection: "Upgrade", "sec-websocket-accept": "k", "sec-websocket-protocol": "chat.v1" }, true))
      .toEqual({ "sec-websocket-protocol": "chat.v1" })
    expect(downstreamResponseHeaders({ "sec-websocket-accept": "k", "content-type": "text/plain" })).toEqual({ "sec-websocket-accept": "k", "content-type": "text/plain" })
  })
})
