import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { decideRouting, type ModeOverrides } from "../../src/domain/ClusterMode.js"
import { serviceView, type ServiceInput } from "../support/Builders.js"
import { gatewayView, type GatewayInput } from "../support/GatewayBuilders.js"

interface Case {
  readonly title: string
  readonly services: ReadonlyArray<ServiceInput>
  readonly overrides?: ModeOverrides
  /** `mode endpoint` (endpoint `""` in tunnel mode), then the Service the decision read, if any. */
  readonly expected: string
  readonly service?: string
}

const nginx = { name: "ingress-nginx-controller", namespace: "ingress-nginx" }
const lb = (...entries: ReadonlyArray<{ ip?: string; hostname?: string }>) => ({ ...nginx, lb: entries })

const cases: ReadonlyArray<Case> = [
  { title: "no Service: tunnel", services: [], expected: "tunnel " },
  { title: "a NodePort controller: tunnel",
    services: [{ ...nginx, type: "NodePort" }], expected: "tunnel " },
  { title: "a LoadBalancer still pending: tunnel",
    services: [{ ...nginx }], expected: "tunnel ", service: "ingress-nginx/ingress-nginx-controller" },
  { title: "MetalLB on 192.168.x: tunnel",
    services: [lb({ ip: "192.168.1.240" })], expected: "tunnel ", service: "ingress-nginx/ingress-nginx-controller" },
  { title: "CGNAT 100.64.x: tunnel", services: [lb({ ip: "100.64.0.7" })], expected: "tunnel " },
  { title: "link-local and loopback: tunnel", services: [lb({ ip: "169.254.10.1" }, { ip: "127.0.0.1" })], expected: "tunnel " },
  { title: "a public IP: direct on port 80",
    services: [lb({ ip: "203.0.113.45" })], expected: "direct 203.0.113.45:80", service: "ingress-nginx/ingress-nginx-controller" },
  { title: "172.15 and 172.32 are outside RFC 1918: direct",
    services: [lb({ ip: "172.32.0.1" })], expected: "direct 172.32.0.1:80" },
  { title: "an AWS hostname: direct",
    services: [lb({ hostname: "a1b2c3-123456789.eu-west-1.elb.amazonaws.com" })],
    expected: "direct a1b2c3-123456789.eu-west-1.elb.amazonaws.com:80" },
  { title: "an internal hostname: tunnel",
    services: [lb({ hostname: "ingress.corp.internal" }, { hostname: "lb.svc.cluster.local" }, { hostname: "gw.localdomain" })],
    expected: "tunnel " },
  { title: "https-only ports: the first TCP port",
    services: [{ ...lb({ ip: "198.51.100.7" }), ports: [{ name: "dns", port: 53, protocol: "UDP" }, { name: "https", port: 443 }] }],
    expected: "direct 198.51.100.7:443" },
  { title: "the port named http wins over port 80",
    services: [{ ...lb({ ip: "198.51.100.7" }), ports: [{ name: "web", port: 80 }, { name: "http", port: 8080 }] }],
    expected: "direct 198.51.100.7:8080" },
  { title: "port 80 wins over the first port",
    services: [{ ...lb({ ip: "198.51.100.7" }), ports: [{ name: "https", port: 443 }, { name: "web", port: 80 }] }],
    expected: "direct 198.51.100.7:80" },
  { title: "no TCP port: no endpoint",
    services: [{ ...lb({ ip: "198.51.100.7" }), ports: [{ name: "quic", port: 443, protocol: "UDP" }] }], expected: "tunnel " },
  { title: "a public IPv6 address in brackets",
    services: [lb({ ip: "2001:db8::10" })], expected: "direct [2001:db8::10]:80" },
  { title: "IPv6 ULA, link-local and IPv4-mapped private: tunnel",
    services: [lb({ ip: "fd00::1" }, { ip: "fe80::1" }, { ip: "::ffff:10.0.0.1" }, { ip: "::1" })], expected: "tunnel " },
  { title: "several entries, the first one private: the first public wins",
    services: [lb({ ip: "10.0.0.5", hostname: "internal.local" }, { ip: "203.0.113.9" }, { ip: "203.0.113.10" })],
    expected: "direct 203.0.113.9:80" },
  { title: "ip before hostname within an entry",
    services: [lb({ ip: "203.0.113.9", hostname: "lb.example.com" })], expected: "direct 203.0.113.9:80" },
  { title: "well-known names come first, in their order",
    services: [{ name: "traefik", namespace: "traefik", lb: [{ ip: "203.0.113.2" }] },
      { name: "traefik", namespace: "kube-system", lb: [{ ip: "203.0.113.1" }] },
      { name: "aaa", namespace: "aaa", labels: { "app.kubernetes.io/name": "traefik" }, lb: [{ ip: "203.0.113.3" }] }],
    expected: "direct 203.0.113.1:80", service: "kube-system/traefik" },
  { title: "a well-known name that is not a LoadBalancer is passed over",
    services: [{ ...nginx, type: "ClusterIP" }, { name: "kong-proxy", namespace: "kong", labels: { "app.kubernetes.io/name": "kong" }, lb: [{ ip: "203.0.113.4" }] }],
    expected: "direct 203.0.113.4:80", service: "kong/kong-proxy" },
  { title: "tier 2: controller labels, ties to the smaller namespace/name",
    services: [{ name: "z", namespace: "b", labels: { "app.kubernetes.io/name": "contour" }, lb: [{ ip: "203.0.113.5" }] },
      { name: "y", namespace: "a", labels: { "app.kubernetes.io/name": "envoy" }, lb: [{ ip: "203.0.113.6" }] },
      { name: "web", namespace: "a", lb: [{ ip: "203.0.113.7" }] }],
    expected: "direct 203.0.113.6:80", service: "a/y" },
  { title: "tier 3: any LoadBalancer with TCP 80 or 443, ties to the smaller namespace/name",
    services: [{ name: "b", namespace: "x", lb: [{ ip: "203.0.113.8" }] },
      { name: "a", namespace: "x", ports: [{ name: "https", port: 443 }], lb: [{ ip: "203.0.113.9" }] },
      { name: "0", namespace: "x", ports: [{ name: "ssh", port: 22 }], lb: [{ ip: "203.0.113.10" }] }],
    expected: "direct 203.0.113.9:443", service: "x/a" },
  { title: "a configured Service is used whatever the tiers say",
    services: [lb({ ip: "203.0.113.1" }), { name: "edge", namespace: "gw", ports: [{ name: "http", port: 8000 }], lb: [{ ip: "198.51.100.1" }] }],
    overrides: { ingressService: "gw/edge" }, expected: "direct 198.51.100.1:8000", service: "gw/edge" },
  { title: "a configured Service that does not exist: tunnel",
    services: [lb({ ip: "203.0.113.1" })], overrides: { ingressService: "gw/missing" }, expected: "tunnel " },
  { title: "forcing tunnel on a public cluster",
    services: [lb({ ip: "203.0.113.1" })], overrides: { routingMode: "tunnel" }, expected: "tunnel " },
  { title: "a public_endpoint override makes a private cluster direct",
    services: [lb({ ip: "10.1.2.3" })], overrides: { publicEndpoint: "gw.example.com:443" }, expected: "direct gw.example.com:443" },
  { title: "the public_endpoint override replaces the detected endpoint",
    services: [lb({ ip: "203.0.113.1" })], overrides: { routingMode: "direct", publicEndpoint: "198.51.100.2:8443" },
    expected: "direct 198.51.100.2:8443" }
]

describe("decideRouting", () => {
  it.each(cases)("$title", (c) => {
    const decision = Either.getOrThrow(decideRouting(c.services.map(serviceView), c.overrides))
    expect(`${decision.routingMode} ${decision.publicEndpoint}`).toBe(c.expected)
    expect(decision.isPrivate).toBe(decision.routingMode === "tunnel")
    if (c.service !== undefined) expect(decision.ingressService).toEqual(Option.some(c.service))
  })

  it.each([
    ["a port named http", [{ name: "metrics", port: 10254 }, { name: "http", port: 8080 }], "ingress-nginx-controller.ingress-nginx.svc:8080"],
    ["else port 80", [{ name: "https", port: 443 }, { name: "web", port: 80 }], "ingress-nginx-controller.ingress-nginx.svc:80"],
    ["else the first TCP port", [{ name: "a", port: 8443 }, { name: "b", port: 9000 }], "ingress-nginx-controller.ingress-nginx.svc:8443"]
  ] as const)("the tunnel upstream is the controller Service on %s", (_title, ports, expected) => {
    const decision = Either.getOrThrow(decideRouting([serviceView({ ...lb({ ip: "192.168.1.240" }), ports: [...ports] })]))
    expect(decision.upstream).toEqual(Option.some(expected))
  })

  it("without a controller Service there is no tunnel upstream", () => {
    expect(Either.getOrThrow(decideRouting([])).upstream).toEqual(Option.none())
  })

  it("forcing direct without any endpoint is a configuration error", () => {
    const result = decideRouting([serviceView({ lb: [{ ip: "10.0.0.1" }] })], { routingMode: "direct" })
    expect(Either.isLeft(result) && result.left._tag).toBe("DirectWithoutEndpoint")
    expect(Either.isLeft(result) && result.left.message).toContain("routing_mode")
  })
})

describe("decideRouting through a Gateway", () => {
  const decide = (services: ReadonlyArray<ServiceInput>, gateways: ReadonlyArray<GatewayInput>, overrides: ModeOverrides = {}) =>
    Either.getOrThrow(decideRouting(services.map(serviceView), overrides, gateways.map(gatewayView)))
  const summary = (d: ReturnType<typeof decide>) =>
    `${d.routingMode} ${d.publicEndpoint} ${Option.getOrElse(d.ingressService, () => "-")} ${Option.getOrElse(d.upstream, () => "-")}`

  it.each([
    ["no Service: the Gateway's public address on its HTTP listener's port", [], [{ addresses: ["203.0.113.7"], listeners: [["https", "HTTPS", 443], ["http", "HTTP", 8080]] }],
      "direct 203.0.113.7:8080 gateway/gateway-system/eg 203.0.113.7:8080"],
    ["IPAddress before Hostname, the first public one", [], [{ addresses: [["Hostname", "lb.example.com"], "10.0.0.5", "198.51.100.9"] }],
      "direct 198.51.100.9:80 gateway/gateway-system/eg 10.0.0.5:80"],
    ["a public hostname", [], [{ addresses: [["Hostname", "a1b2.elb.amazonaws.com"]] }],
      "direct a1b2.elb.amazonaws.com:80 gateway/gateway-system/eg a1b2.elb.amazonaws.com:80"],
    ["only private addresses: tunnel to the Gateway's first address", [], [{ addresses: ["192.168.1.50", ["Hostname", "gw.cluster.local"]] }],
      "tunnel  gateway/gateway-system/eg 192.168.1.50:80"],
    ["no HTTP listener: no endpoint, tunnel, no upstream", [], [{ addresses: ["203.0.113.7"], listeners: [["https", "HTTPS", 443]] }],
      "tunnel  gateway/gateway-system/eg -"],
    ["Gateways without addresses are passed over; the smallest namespace/name first", [],
      [{ name: "z", addresses: ["203.0.113.9"] }, { name: "a" }, { name: "m", addresses: ["203.0.113.8"] }],
      "direct 203.0.113.8:80 gateway/gateway-system/m 203.0.113.8:80"],
    ["an ingress controller Service wins over Gateways", [lb({ ip: "203.0.113.45" })], [{ addresses: ["203.0.113.7"] }],
      "direct 203.0.113.45:80 ingress-nginx/ingress-nginx-controller ingress-nginx-controller.ingress-nginx.svc:80"]
  ] as const)("%s", (_title, services, gateways, expected) => {
    expect(summary(decide(services, gateways))).toBe(expected)
  })

  it("--gateway names the entry point even when a controller Service exists", () => {
    expect(summary(decide([lb({ ip: "203.0.113.45" })], [{ name: "edge", addresses: ["198.51.100.1"] }, { name: "a", addresses: ["203.0.113.7"] }], { gateway: "gateway-system/edge" })))
      .toBe("direct 198.51.100.1:80 gateway/gateway-system/edge 198.51.100.1:80")
  })

  it("--ingress-service never falls back to a Gateway", () => {
    expect(summary(decide([], [{ addresses: ["203.0.113.7"] }], { ingressService: "x/missing" }))).toBe("tunnel  - -")
  })
})
