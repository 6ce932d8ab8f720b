import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { parseEndpoint, parseRoutingMode, parseServiceRef } from "../../src/config/Settings.js"

describe("settings", () => {
  it.each([
    ["203.0.113.45:80", true], ["[2001:db8::10]:443", true], ["gw.example.com:8443", true],
    ["203.0.113.45", false], ["2001:db8::10:443", false], ["gw.example.com:0", false], ["gw.example.com:70000", false],
    ["*.example.com:80", false], ["http://gw.example.com:80", false], [":80", false], ["[gw.example.com]:80", false]
  ])("endpoint %j valid: %s", (value, expected) => {
    expect(Either.isRight(parseEndpoint(value))).toBe(expected)
  })

  it.each([
    ["ingress-nginx/ingress-nginx-controller", true], ["kube-system/traefik", true],
    ["traefik", false], ["a/b/c", false], ["Upper/case", false], ["/name", false]
  ])("service reference %j valid: %s", (value, expected) => {
    expect(Either.isRight(parseServiceRef(value))).toBe(expected)
  })

  it("routing mode is direct or tunnel", () => {
    expect(parseRoutingMode("direct")).toEqual(Either.right("direct"))
    expect(parseRoutingMode("tunnel")).toEqual(Either.right("tunnel"))
    expect(Either.isLeft(parseRoutingMode("Direct"))).toBe(true)
  })
})
