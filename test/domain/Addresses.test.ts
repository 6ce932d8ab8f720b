import { describe, expect, it } from "@effect/vitest"
import { formatEndpoint, isIpAddress, isPrivateHostname, isPrivateIp, splitEndpoint } from "../../src/domain/Addresses.js"
import { isValidHost, normalizeHost, tlsHostCovers } from "../../src/domain/Hostname.js"

describe("isPrivateIp", () => {
  it.each([
    ["10.0.0.1", true], ["172.16.0.1", true], ["172.31.255.255", true], ["172.15.0.1", false], ["172.32.0.1", false],
    ["192.168.1.240", true], ["127.0.0.1", true], ["0.0.0.0", true], ["169.254.1.1", true], ["100.64.0.1", true],
    ["100.127.255.255", true], ["100.128.0.1", false], ["203.0.113.45", false], ["8.8.8.8", false],
    ["::1", true], ["::", true], ["fd12:3456::1", true], ["fc00::1", true], ["fe80::1", true],
    ["::ffff:192.168.0.1", true], ["::ffff:203.0.113.1", false], ["2001:db8::10", false], ["2606:4700::1", false]
  ])("%s → %s", (address, expected) => {
    expect(isIpAddress(address)).toBe(true)
    expect(isPrivateIp(address)).toBe(expected)
  })
})

describe("isPrivateHostname", () => {
  it.each([
    ["lb.example.com", false], ["abc.elb.amazonaws.com", false], ["printer.local", true], ["gw.corp.internal", true],
    ["host.localdomain", true], ["svc.cluster.local.", true], ["LB.INTERNAL", true], ["internal.example.com", false]
  ])("%s → %s", (hostname, expected) => {
    expect(isPrivateHostname(hostname)).toBe(expected)
  })
})

describe("formatEndpoint", () => {
  it("puts IPv6 in brackets, nothing else", () => {
    expect(formatEndpoint("2001:db8::10", 80)).toBe("[2001:db8::10]:80")
    expect(formatEndpoint("203.0.113.45", 443)).toBe("203.0.113.45:443")
    expect(formatEndpoint("lb.example.com", 80)).toBe("lb.example.com:80")
  })
})

describe("hostnames", () => {
  it.each([
    ["Shop.Example.com.", "shop.example.com"], ["*.Example.com", "*.example.com"], [" a.example.com ", "a.example.com"]
  ])("normalizes %j to %j", (raw, expected) => {
    expect(normalizeHost(raw)).toBe(expected)
  })

  it.each([
    ["example.com", true], ["*.example.com", true], ["localhost", true], ["a-b.c-d.example", true], ["123.example.com", true],
    ["", false], ["*", false], ["*.", false], ["a.*.example.com", false], ["10.0.0.1", false], ["example.com:80", false],
    ["a..b", false], ["-a.example.com", false], ["a_b.example.com", false], [`${"a".repeat(64)}.example.com`, false],
    [`${"a.".repeat(127)}com`, false]
  ])("%j valid: %s", (host, expected) => {
    expect(isValidHost(host)).toBe(expected)
  })

  it.each([
    ["a.example.com", "a.example.com", true], ["*.example.com", "a.example.com", true],
    ["*.example.com", "example.com", false], ["*.example.com", "a.b.example.com", false],
    ["*.example.com", "*.example.com", true], ["a.example.com", "b.example.com", false]
  ])("tls %s covers %s: %s", (pattern, host, expected) => {
    expect(tlsHostCovers(pattern, host)).toBe(expected)
  })
})

describe("splitEndpoint", () => {
  it.each([
    ["203.0.113.45:80", { host: "203.0.113.45", port: 80 }],
    ["[2001:db8::10]:443", { host: "2001:db8::10", port: 443 }],
    ["ingress-nginx-controller.ingress-nginx.svc:8080", { host: "ingress-nginx-controller.ingress-nginx.svc", port: 8080 }],
    ["no-port", undefined],
    [":80", undefined],
    ["host:0", undefined],
    ["host:70000", undefined]
  ] as const)("%s", (endpoint, expected) => {
    expect(splitEndpoint(endpoint)).toEqual(expected)
  })
})
