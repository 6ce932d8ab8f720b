import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { ControllerTransport } from "../../src/controller/ControllerTransport.js"
import { proxyFor, showProxy } from "../../src/http/Proxy.js"
import { startConnectProxy } from "../support/ConnectProxy.js"
import { serveController } from "../support/ControllerServer.js"

const target = (url: string) => new URL(url)

describe("proxyFor", () => {
  it.each([
    ["https://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128" }, "http://proxy:3128/"],
    ["https://ctl.example.com", { https_proxy: "proxy:3128" }, "http://proxy:3128/"],
    ["wss://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128" }, "http://proxy:3128/"],
    ["http://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128" }, undefined],
    ["http://ctl.example.com", { HTTP_PROXY: "http://proxy:3128" }, "http://proxy:3128/"],
    ["https://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "example.com" }, undefined],
    ["https://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: ".example.com" }, undefined],
    ["https://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "other.com, *" }, undefined],
    ["https://ctl.example.com", { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "ctl.example.com:8443" }, "http://proxy:3128/"],
    ["https://ctl.example.com:8443", { HTTPS_PROXY: "http://proxy:3128", no_proxy: "ctl.example.com:8443" }, undefined],
    ["https://notexample.com", { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: "example.com" }, "http://proxy:3128/"],
    ["https://ctl.example.com", { HTTPS_PROXY: "socks5://proxy:1080" }, undefined],
    ["https://ctl.example.com", {}, undefined]
  ] as const)("%s with %j → %s", (url, env, expected) => {
    expect(proxyFor(target(url), env)?.href).toBe(expected)
  })

  it("shows a proxy without its credentials", () => {
    expect(showProxy(new URL("http://user:s3cret@proxy:3128"))).toBe("http://proxy:3128")
  })
})

describe("ControllerTransport through a proxy (loopback)", () => {
  it.scoped("sends the call over a CONNECT tunnel, with the proxy's credentials", () =>
    Effect.gen(function* () {
      const proxy = yield* Effect.acquireRelease(Effect.promise(startConnectProxy), (p) => Effect.promise(p.close))
      const controller = yield* serveController(new Map([["t", "c"]]))
      const via = new URL(proxy.url)
      via.username = "agent"
      via.password = "p@ss"
      const transport = yield* Effect.provide(ControllerTransport, ControllerTransport.layerVia(via))
      const reply = yield* transport.send({ method: "GET", url: `${controller.url}/health`, headers: {} }, Duration.seconds(5))
      expect(reply.status).toBe(200)
      expect(proxy.connects).toEqual([`127.0.0.1:${controller.port}`])
      expect(proxy.authorizations).toEqual([`Basic ${Buffer.from("agent:p@ss").toString("base64")}`])
    }))
})
