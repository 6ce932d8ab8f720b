import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { desiredRoutes } from "../../src/domain/DesiredRoutes.js"
import type { Extracted } from "../../src/domain/IngressRoutes.js"
import { selectAll, type IngressSelection } from "../../src/domain/IngressSelection.js"
import { parseLabelSelector } from "../../src/domain/LabelSelector.js"
import type { Route } from "../../src/domain/Route.js"
import {
  backend, ingressClassView, ingressView, path, rule, serviceView,
  type IngressInput, type ServiceInput
} from "../support/Builders.js"

/** `host path pathType -> service:port` plus ` tls` when TLS. */
const describeRoute = (r: Route) =>
  `${r.hostname} ${r.path} ${r.pathType} -> ${r.serviceName}:${r.servicePort}${r.tls ? " tls" : ""}`
/** `ns/name[ host[ path]]: reason`. */
const describeSkip = (s: Extracted["skipped"][number]) =>
  [s.ingress, s.host, s.path].filter((x) => x !== undefined).join(" ") + `: ${s.reason}`

interface Case {
  readonly title: string
  readonly ingresses: ReadonlyArray<IngressInput>
  readonly services?: ReadonlyArray<ServiceInput>
  readonly classes?: ReadonlyArray<readonly [string, boolean]>
  readonly selection?: Partial<IngressSelection>
  readonly routes: ReadonlyArray<string>
  readonly skipped?: ReadonlyArray<string>
}

const selector = (source: string) => Option.some(Either.getOrThrow(parseLabelSelector(source)))
const app = { name: "app", namespace: "default", ports: [{ name: "http", port: 8080 }] }

const cases: ReadonlyArray<Case> = [
  { title: "one route per host and path, to the backend Service",
    ingresses: [{ rules: [rule("a.example.com", path("/", backend("web", 80)), path("/api", backend("api", 9090)))] }],
    routes: ["a.example.com / Prefix -> web:80", "a.example.com /api Prefix -> api:9090"] },
  { title: "hostnames are lower-cased and lose a trailing dot",
    ingresses: [{ host: "Shop.Example.COM." }],
    routes: ["shop.example.com / Prefix -> web:80"] },
  { title: "a wildcard host is kept as a wildcard",
    ingresses: [{ host: "*.Example.com" }],
    routes: ["*.example.com / Prefix -> web:80"] },
  { title: "invalid hosts are skipped: an IP, a port, empty labels, a bare wildcard",
    ingresses: [{ rules: ["10.0.0.1", "a.example.com:8080", "a..example.com", "*", "-a.example.com"].map((h) => rule(h, path("/"))) }],
    routes: [],
    skipped: ["default/web 10.0.0.1: invalid_host", "default/web a.example.com:8080: invalid_host",
      "default/web a..example.com: invalid_host", "default/web *: invalid_host", "default/web -a.example.com: invalid_host"] },
  { title: "a rule without host is skipped",
    ingresses: [{ rules: [rule(undefined, path("/")), rule("a.example.com", path("/"))] }],
    routes: ["a.example.com / Prefix -> web:80"],
    skipped: ["default/web: no_host"] },
  { title: "a default backend without host rules is skipped",
    ingresses: [{ defaultBackend: backend("fallback", 80) }],
    routes: [], skipped: ["default/web: no_rules"] },
  { title: "a host rule without http routes / to the default backend",
    ingresses: [{ defaultBackend: backend("fallback", 8080), rules: [rule("a.example.com"), rule("b.example.com", path("/x"))] }],
    routes: ["a.example.com / Prefix -> fallback:8080", "b.example.com /x Prefix -> web:80"] },
  { title: "a host rule without http and no default backend is skipped",
    ingresses: [{ rules: [rule("a.example.com")] }],
    routes: [], skipped: ["default/web a.example.com: no_paths"] },
  { title: "an empty or absent path means /",
    ingresses: [{ rules: [rule("a.example.com", path("", backend("web", 80), "ImplementationSpecific")),
      rule("b.example.com", path(undefined, backend("web", 80), "ImplementationSpecific"))] }],
    routes: ["a.example.com / ImplementationSpecific -> web:80", "b.example.com / ImplementationSpecific -> web:80"] },
  { title: "a missing pathType means ImplementationSpecific",
    ingresses: [{ rules: [rule("a.example.com", path("/x", backend("web", 80), null))] }],
    routes: ["a.example.com /x ImplementationSpecific -> web:80"] },
  { title: "Exact and Prefix paths must start with / and have no forbidden segments",
    ingresses: [{ rules: [rule("a.example.com", path("api", backend("w", 1), "Prefix"), path("v1", backend("w", 1), "Exact"),
      path("/a//b", backend("w", 1), "Prefix"), path("/a/..", backend("w", 1), "Exact"), path("/x", backend("w", 1), "Regex"),
      path("~*.php", backend("w", 1), "ImplementationSpecific"))] }],
    routes: ["a.example.com ~*.php ImplementationSpecific -> w:1"],
    skipped: ["default/web a.example.com api: invalid_path", "default/web a.example.com v1: invalid_path",
      "default/web a.example.com /a//b: invalid_path", "default/web a.example.com /a/..: invalid_path",
      "default/web a.example.com /x: invalid_path"] },
  { title: "a named port resolves through the same-namespace Service's port (not targetPort)",
    ingresses: [{ rules: [rule("a.example.com", path("/", backend("app", "http")))] }],
    services: [app, { ...app, namespace: "other", ports: [{ name: "http", port: 1 }] }],
    routes: ["a.example.com / Prefix -> app:8080"] },
  { title: "an unresolved named port is skipped: no Service, no such port",
    ingresses: [{ rules: [rule("a.example.com", path("/", backend("app", "grpc")), path("/b", backend("gone", "http")))] }],
    services: [app],
    routes: [],
    skipped: ["default/web a.example.com /: unresolved_port", "default/web a.example.com /b: unresolved_port"] },
  { title: "a numbered port needs no Service",
    ingresses: [{ rules: [rule("a.example.com", path("/", backend("not-yet-created", 3000)))] }],
    routes: ["a.example.com / Prefix -> not-yet-created:3000"] },
  { title: "resource backends and backends without a port are skipped",
    ingresses: [{ rules: [rule("a.example.com",
      path("/static", { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "assets" } }),
      path("/none", { service: { name: "web" } }), path("/zero", backend("web", 0)))] }],
    routes: [],
    skipped: ["default/web a.example.com /static: resource_backend", "default/web a.example.com /none: invalid_backend",
      "default/web a.example.com /zero: invalid_backend"] },
  { title: "tls is per host, wildcard-aware, from this Ingress's own tls entries",
    ingresses: [
      { rules: ["a.example.com", "b.example.com", "x.wild.example.com", "wild.example.com", "a.b.wild.example.com"].map((h) => rule(h, path("/"))),
        tls: [{ hosts: ["A.example.com."] }, { hosts: ["*.wild.example.com"] }] },
      { name: "other", host: "c.example.com" }],
    routes: ["a.b.wild.example.com / Prefix -> web:80", "a.example.com / Prefix -> web:80 tls",
      "b.example.com / Prefix -> web:80", "c.example.com / Prefix -> web:80", "wild.example.com / Prefix -> web:80",
      "x.wild.example.com / Prefix -> web:80 tls"] },
  { title: "a tls entry without hosts covers every host of its Ingress",
    ingresses: [{ host: "a.example.com", tls: [{}] }, { name: "plain", host: "b.example.com" }],
    routes: ["a.example.com / Prefix -> web:80 tls", "b.example.com / Prefix -> web:80"] },
  { title: "the same host and path twice in one Ingress keeps the first",
    ingresses: [{ rules: [rule("a.example.com", path("/", backend("one", 1))), rule("a.example.com", path("/", backend("two", 2), "Exact"))] }],
    routes: ["a.example.com / Prefix -> one:1"], skipped: ["default/web a.example.com /: duplicate"] },
  { title: "a conflict goes to the older Ingress; only the contested route of the loser is skipped",
    ingresses: [
      { name: "new", createdAt: "2026-02-01T00:00:00Z", rules: [rule("a.example.com", path("/", backend("new", 1)), path("/new", backend("new", 1)))] },
      { name: "old", createdAt: "2026-01-01T00:00:00Z", rules: [rule("a.example.com", path("/", backend("old", 2), "Exact"))] }],
    routes: ["a.example.com / Exact -> old:2", "a.example.com /new Prefix -> new:1"],
    skipped: ["default/new a.example.com /: conflict"] },
  { title: "a missing timestamp counts as newest; ties go to the smaller namespace/name",
    ingresses: [
      { name: "untimed", rules: [rule("a.example.com", path("/", backend("untimed", 1)))] },
      { name: "b", namespace: "x", createdAt: "2026-01-01T00:00:00Z", rules: [rule("a.example.com", path("/", backend("b", 1)))] },
      { name: "a", namespace: "x", createdAt: "2026-01-01T00:00:00Z", rules: [rule("a.example.com", path("/", backend("a", 1)))] }],
    routes: ["a.example.com / Prefix -> a:1"],
    skipped: ["default/untimed a.example.com /: conflict", "x/b a.example.com /: conflict"] },
  { title: "the last-applied annotation is dropped, others kept",
    ingresses: [{ host: "a.example.com", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", "x/y": "z" } }],
    routes: ["a.example.com / Prefix -> web:80"] },
  { title: "an Ingress annotated pipeops.io/route-sync: \"false\" is skipped",
    ingresses: [{ host: "a.example.com", annotations: { "pipeops.io/route-sync": "false" } },
      { name: "kept", host: "b.example.com", annotations: { "pipeops.io/route-sync": "true" } }],
    routes: ["b.example.com / Prefix -> web:80"], skipped: ["default/web: opted_out"] },
  { title: "the class filter uses ingressClassName, then the annotation, then the default class",
    ingresses: [{ name: "named", className: "nginx", host: "a.example.com" },
      { name: "annotated", annotations: { "kubernetes.io/ingress.class": "nginx" }, host: "b.example.com" },
      { name: "classless", host: "c.example.com" }, { name: "traefik", className: "traefik", host: "d.example.com" }],
    classes: [["nginx", true], ["traefik", false]],
    selection: { ingressClasses: ["nginx"] },
    routes: ["a.example.com / Prefix -> web:80", "b.example.com / Prefix -> web:80", "c.example.com / Prefix -> web:80"],
    skipped: ["default/traefik: filtered_class"] },
  { title: "a classless Ingress is filtered out when there is no default class",
    ingresses: [{ host: "a.example.com" }], classes: [["nginx", false]], selection: { ingressClasses: ["nginx"] },
    routes: [], skipped: ["default/web: filtered_class"] },
  { title: "the namespace filter",
    ingresses: [{ namespace: "team-a", host: "a.example.com" }, { namespace: "team-b", host: "b.example.com" }],
    selection: { namespaces: ["team-a"] },
    routes: ["a.example.com / Prefix -> web:80"], skipped: ["team-b/web: filtered_namespace"] },
  { title: "the label selector",
    ingresses: [{ name: "public", labels: { expose: "public", tier: "web" }, host: "a.example.com" },
      { name: "internal", labels: { expose: "internal" }, host: "b.example.com" }, { name: "bare", host: "c.example.com" }],
    selection: { labelSelector: selector("expose in (public), tier") },
    routes: ["a.example.com / Prefix -> web:80"], skipped: ["default/bare: filtered_labels", "default/internal: filtered_labels"] },
  { title: "different paths on a shared host are not a conflict",
    ingresses: [{ name: "a", rules: [rule("shared.example.com", path("/a"))] }, { name: "b", rules: [rule("shared.example.com", path("/b"))] }],
    routes: ["shared.example.com /a Prefix -> web:80", "shared.example.com /b Prefix -> web:80"] }
]

describe("desiredRoutes", () => {
  it.each(cases)("$title", (c) => {
    const extracted = desiredRoutes({
      ingresses: c.ingresses.map(ingressView),
      services: (c.services ?? []).map(serviceView),
      ingressClasses: (c.classes ?? []).map(([name, isDefault]) => ingressClassView(name, isDefault)),
      gateways: [], httpRoutes: []
    }, { ...selectAll, ...c.selection })
    expect(extracted.routes.map(describeRoute)).toEqual(c.routes)
    expect(extracted.skipped.map(describeSkip).sort()).toEqual([...(c.skipped ?? [])].sort())
  })

  it("copies annotations without kubectl's last-applied configuration", () => {
    const { routes } = desiredRoutes({
      ingresses: [ingressView({ host: "a.example.com", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", "x/y": "z" } })],
      services: [], ingressClasses: [], gateways: [], httpRoutes: []
    }, selectAll)
    expect(routes[0]?.annotations).toEqual({ "x/y": "z" })
  })

  it("reports the winner in a conflict's detail", () => {
    const { skipped } = desiredRoutes({
      ingresses: [ingressView({ name: "b", host: "a.example.com" }), ingressView({ name: "a", host: "a.example.com" })],
      services: [], ingressClasses: [], gateways: [], httpRoutes: []
    }, selectAll)
    expect(skipped).toEqual([{ ingress: "default/b", host: "a.example.com", path: "/", reason: "conflict", detail: "a.example.com/ is claimed by default/a" }])
  })
})
