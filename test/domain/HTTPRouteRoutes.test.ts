import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { desiredRoutes } from "../../src/domain/DesiredRoutes.js"
import type { Extracted } from "../../src/domain/IngressRoutes.js"
import { selectAll, type IngressSelection } from "../../src/domain/IngressSelection.js"
import { parseLabelSelector } from "../../src/domain/LabelSelector.js"
import type { Route } from "../../src/domain/Route.js"
import { ingressView } from "../support/Builders.js"
import { gatewayView, httpRouteView, httpRule, type GatewayInput, type HTTPRouteInput } from "../support/GatewayBuilders.js"

const describeRoute = (r: Route) =>
  `${r.hostname} ${r.path} ${r.pathType} -> ${r.namespace}/${r.serviceName}:${r.servicePort}${r.tls ? " tls" : ""}`
const describeSkip = (s: Extracted["skipped"][number]) =>
  [s.ingress, s.host, s.path].filter((x) => x !== undefined).join(" ") + `: ${s.reason}`

interface Case {
  readonly title: string
  readonly routes: ReadonlyArray<HTTPRouteInput>
  readonly gateways?: ReadonlyArray<GatewayInput>
  readonly selection?: Partial<IngressSelection>
  readonly expected: ReadonlyArray<string>
  readonly skipped?: ReadonlyArray<string>
}

const shop = { hostnames: ["shop.example.com"] }
const web = "httproute/default/web"
const listeners = (...entries: NonNullable<GatewayInput["listeners"]>): ReadonlyArray<GatewayInput> => [{ listeners: entries }]

const cases: ReadonlyArray<Case> = [
  { title: "one route per hostname and path match, to the backend Service",
    routes: [{ hostnames: ["shop.example.com", "www.example.com"], rules: [httpRule([["PathPrefix", "/"], ["PathPrefix", "/api"]], ["web", 8080])] }],
    expected: ["shop.example.com / Prefix -> default/web:8080", "shop.example.com /api Prefix -> default/web:8080",
      "www.example.com / Prefix -> default/web:8080", "www.example.com /api Prefix -> default/web:8080"] },
  { title: "Exact matches stay Exact",
    routes: [{ ...shop, rules: [httpRule([["Exact", "/healthz"]], ["web", 80])] }], expected: ["shop.example.com /healthz Exact -> default/web:80"] },
  { title: "a rule without matches routes / as a Prefix",
    routes: [{ ...shop, rules: [httpRule([], ["web", 80])] }], expected: ["shop.example.com / Prefix -> default/web:80"] },
  { title: "a match without a path type is a PathPrefix",
    routes: [{ ...shop, rules: [{ matches: [{ path: { value: "/docs" } }], backendRefs: [{ name: "web", port: 80 }] }] }],
    expected: ["shop.example.com /docs Prefix -> default/web:80"] },
  { title: "RegularExpression matches are skipped, the others kept",
    routes: [{ ...shop, rules: [httpRule([["RegularExpression", "/v[0-9]+"], ["PathPrefix", "/"]], ["web", 80])] }],
    expected: ["shop.example.com / Prefix -> default/web:80"], skipped: [`${web} shop.example.com: unsupported_match`] },
  { title: "hostnames are normalised as for Ingresses; wildcards kept",
    routes: [{ hostnames: ["Shop.Example.COM.", "*.shop.example.com"] }],
    expected: ["*.shop.example.com / Prefix -> default/web:80", "shop.example.com / Prefix -> default/web:80"] },
  { title: "an invalid hostname is skipped",
    routes: [{ hostnames: ["10.0.0.1", "ok.example.com"] }], expected: ["ok.example.com / Prefix -> default/web:80"], skipped: [`${web} 10.0.0.1: invalid_host`] },
  { title: "without spec.hostnames, the listener's hostname",
    gateways: listeners(["http", "HTTP", 80, "app.example.com"]), routes: [{}], expected: ["app.example.com / Prefix -> default/web:80"] },
  { title: "no hostname anywhere: no_host",
    routes: [{}], expected: [], skipped: [`${web}: no_host`] },
  { title: "a sectionName attaches to that listener only (its hostname, its protocol)",
    gateways: listeners(["http", "HTTP", 80, "a.example.com"], ["https", "HTTPS", 443, "b.example.com"]),
    routes: [{ parents: ["gateway-system/eg#https"] }], expected: ["b.example.com / Prefix -> default/web:80 tls"] },
  { title: "tls when an HTTPS listener the route attaches to covers the hostname",
    gateways: listeners(["http", "HTTP", 80], ["https", "HTTPS", 443, "*.example.com"]),
    routes: [{ hostnames: ["shop.example.com", "shop.other.com"] }],
    expected: ["shop.example.com / Prefix -> default/web:80 tls", "shop.other.com / Prefix -> default/web:80"] },
  { title: "an HTTPS listener without hostname makes every hostname tls",
    gateways: listeners(["https", "HTTPS", 443]), routes: [shop], expected: ["shop.example.com / Prefix -> default/web:80 tls"] },
  { title: "not accepted by its parent yet: not_accepted",
    routes: [{ ...shop, accepted: [] }], expected: [], skipped: [`${web}: not_accepted`] },
  { title: "accepted by one of two parents: routed through that one",
    gateways: [{ name: "a", listeners: [["http", "HTTP", 80, "a.example.com"]] }, { name: "b", listeners: [["http", "HTTP", 80, "b.example.com"]] }],
    routes: [{ parents: ["gateway-system/a", "gateway-system/b"], accepted: ["gateway-system/b"] }], expected: ["b.example.com / Prefix -> default/web:80"] },
  { title: "a parent Gateway the agent does not see: not_accepted",
    routes: [{ ...shop, parents: ["gateway-system/missing"] }], expected: [], skipped: [`${web}: not_accepted`] },
  { title: "a parentRef without namespace is the route's own namespace",
    gateways: [{ name: "local", namespace: "shop" }], routes: [{ ...shop, namespace: "shop", parents: ["local"] }],
    expected: ["shop.example.com / Prefix -> shop/web:80"] },
  { title: "a cross-namespace parent",
    gateways: [{ name: "shared", namespace: "infra" }], routes: [{ ...shop, namespace: "shop", parents: ["infra/shared"] }],
    expected: ["shop.example.com / Prefix -> shop/web:80"] },
  { title: "the heaviest Service backend wins, ties to the first",
    routes: [{ ...shop, rules: [httpRule([["PathPrefix", "/a"]], ["v1", 80, 10], ["v2", 80, 90]), httpRule([["PathPrefix", "/b"]], ["first", 80], ["second", 80])] }],
    expected: ["shop.example.com /a Prefix -> default/v2:80", "shop.example.com /b Prefix -> default/first:80"] },
  { title: "non-Service backends are passed over",
    routes: [{ ...shop, rules: [httpRule([["PathPrefix", "/"]], ["bucket", 80, 100, "Bucket"], ["web", 80, 1])] }],
    expected: ["shop.example.com / Prefix -> default/web:80"] },
  { title: "only non-Service backends: invalid_backend",
    routes: [{ ...shop, rules: [httpRule([["PathPrefix", "/"]], ["bucket", 80, 1, "Bucket"])] }],
    expected: [], skipped: [`${web} shop.example.com /: invalid_backend`] },
  { title: "a backend without port: invalid_backend",
    routes: [{ ...shop, rules: [httpRule([["PathPrefix", "/"]], ["web", undefined])] }], expected: [], skipped: [`${web} shop.example.com /: invalid_backend`] },
  { title: "a backend in another namespace: invalid_backend",
    routes: [{ ...shop, rules: [{ backendRefs: [{ name: "web", namespace: "other", port: 80 }] }] }],
    expected: [], skipped: [`${web} shop.example.com /: invalid_backend`] },
  { title: "the same hostname and path twice in one route: duplicate",
    routes: [{ ...shop, rules: [httpRule([["PathPrefix", "/"]], ["a", 80]), httpRule([["PathPrefix", "/"]], ["b", 80])] }],
    expected: ["shop.example.com / Prefix -> default/a:80"], skipped: [`${web} shop.example.com /: duplicate`] },
  { title: "the opt-out annotation",
    routes: [{ ...shop, annotations: { "pipeops.io/route-sync": "false" } }], expected: [], skipped: [`${web}: opted_out`] },
  { title: "the namespace filter",
    routes: [{ ...shop, namespace: "other" }], selection: { namespaces: ["default"] }, expected: [], skipped: ["httproute/other/web: filtered_namespace"] },
  { title: "the label filter",
    routes: [{ ...shop, labels: { team: "b" } }], selection: { labelSelector: Option.some(Either.getOrThrow(parseLabelSelector("team=a"))) },
    expected: [], skipped: [`${web}: filtered_labels`] },
  { title: "--gateway-class: only through Gateways of a selected class",
    gateways: [{ className: "internal" }], routes: [shop], selection: { gatewayClasses: ["public"] }, expected: [], skipped: [`${web}: filtered_class`] },
  { title: "--gateway-class: a selected class routes",
    gateways: [{ className: "public" }], routes: [shop], selection: { gatewayClasses: ["public"] }, expected: ["shop.example.com / Prefix -> default/web:80"] },
  { title: "two HTTPRoutes on one hostname and path: the older wins",
    routes: [{ ...shop, name: "new", createdAt: "2026-03-01T00:00:00Z" }, { ...shop, name: "old", createdAt: "2026-02-01T00:00:00Z", rules: [httpRule([], ["old", 80])] }],
    expected: ["shop.example.com / Prefix -> default/old:80"], skipped: ["httproute/default/new shop.example.com /: conflict"] }
]

const extract = (c: Pick<Case, "routes" | "gateways" | "selection">, ingresses: Parameters<typeof ingressView>[0][] = []) => desiredRoutes({
  ingresses: ingresses.map(ingressView), services: [], ingressClasses: [],
  gateways: (c.gateways ?? [{}]).map(gatewayView), httpRoutes: c.routes.map(httpRouteView)
}, { ...selectAll, ...c.selection })

describe("HTTPRoute extraction", () => {
  it.each(cases)("$title", (c) => {
    const extracted = extract(c)
    expect(extracted.routes.map(describeRoute)).toEqual(c.expected)
    expect(extracted.skipped.map(describeSkip).sort()).toEqual([...(c.skipped ?? [])].sort())
  })

  it("names the route after the HTTPRoute and marks its source", () => {
    const [route] = extract({ routes: [{ ...shop, annotations: { team: "a", "kubectl.kubernetes.io/last-applied-configuration": "{}" } }] }).routes
    expect(route?.ingressName).toBe("web")
    expect(route?.annotations).toEqual({ team: "a", "pipeops.io/source": "httproute" })
  })

  it("one conflict rule across sources: an older Ingress keeps the host and path", () => {
    const extracted = extract({ routes: [{ ...shop, createdAt: "2026-02-01T00:00:00Z" }] },
      [{ name: "legacy", host: "shop.example.com", createdAt: "2025-01-01T00:00:00Z" }])
    expect(extracted.routes.map((r) => r.ingressName)).toEqual(["legacy"])
    expect(extracted.skipped.map(describeSkip)).toEqual([`${web} shop.example.com /: conflict`])
  })

  it("one conflict rule across sources: an older HTTPRoute keeps the host and path", () => {
    const extracted = extract({ routes: [{ ...shop, createdAt: "2025-01-01T00:00:00Z" }] },
      [{ name: "newer", host: "shop.example.com", createdAt: "2026-02-01T00:00:00Z" }])
    expect(extracted.routes.map((r) => r.ingressName)).toEqual(["web"])
    expect(extracted.skipped.map(describeSkip)).toEqual(["default/newer shop.example.com /: conflict"])
  })
})
