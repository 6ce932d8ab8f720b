/**
 * Routes of one HTTPRoute (Gateway API): one per (hostname, path match), through each parent
 * Gateway that has accepted the route, to the rule's heaviest Service backend. Everything that
 * cannot be routed is a `Skipped` with its reason, as for Ingresses; HTTPRoutes are named
 * `httproute/<namespace>/<name>` there and as the owner of their claims.
 */
import { Array as Arr, Option } from "effect"
import type { BackendRefView, GatewayView, HTTPRouteView, ListenerView, ParentRefView, RouteRuleView } from "./GatewayViews.js"
import { isValidHost, normalizeHost, tlsHostCovers } from "./Hostname.js"
import { checkObject, type IngressSelection } from "./IngressSelection.js"
import { lastAppliedAnnotation, type Extracted, type Skipped, type SkipReason } from "./IngressRoutes.js"
import { Route, type PathType, type RouteKey } from "./Route.js"
import { objectKey } from "./Views.js"

/** Gateways by `namespace/name`. */
export type GatewayIndex = ReadonlyMap<string, GatewayView>

/** The annotation every HTTPRoute's routes carry, so the controller can tell the sources apart. */
export const sourceAnnotation = "pipeops.io/source"

const gatewayGroup = "gateway.networking.k8s.io"

/** The owner key of an HTTPRoute: its claims and skips are listed under it. */
export const httpRouteOwner = (route: HTTPRouteView): string => `httproute/${objectKey(route.metadata)}`

/** Whether a parentRef names a Gateway. */
const isGatewayRef = (ref: ParentRefView) => (ref.group ?? gatewayGroup) === gatewayGroup && (ref.kind ?? "Gateway") === "Gateway"

const sameParent = (a: ParentRefView, b: ParentRefView, namespace: string) =>
  isGatewayRef(a) && isGatewayRef(b) && a.name === b.name && (a.namespace ?? namespace) === (b.namespace ?? namespace) &&
  (a.sectionName ?? "") === (b.sectionName ?? "")

/** Whether the route's status says `parent` accepted it. */
const accepted = (route: HTTPRouteView, parent: ParentRefView, namespace: string) =>
  (route.status?.parents ?? []).some((entry) => sameParent(entry.parentRef, parent, namespace) &&
    (entry.conditions ?? []).some((c) => c.type === "Accepted" && c.status === "True"))

/** A parent that accepted the route, with the listeners the route attaches to. */
interface Attachment {
  readonly gateway: GatewayView
  readonly listeners: ReadonlyArray<ListenerView>
}

const httpListener = (listener: ListenerView) => listener.protocol === "HTTP" || listener.protocol === "HTTPS"

/** A value, or the problem that stands in its way. */
type Outcome<A> = { readonly value: A } | { readonly problem: string }

/** The rule's backend: its heaviest Service backendRef (ties: the first) in the route's namespace. */
const backendOf = (rule: RouteRuleView, namespace: string): Outcome<{ readonly name: string; readonly port: number }> => {
  const services = (rule.backendRefs ?? []).filter((b) => (b.kind ?? "Service") === "Service" && (b.group ?? "") === "")
  const heaviest = services.reduce<BackendRefView | undefined>((best, b) => (best === undefined || (b.weight ?? 1) > (best.weight ?? 1) ? b : best), undefined)
  if (heaviest === undefined) return { problem: "the rule has no Service backend" }
  if ((heaviest.namespace ?? namespace) !== namespace) return { problem: `backend ${heaviest.name} is in another namespace` }
  if (heaviest.port === undefined || heaviest.port < 1 || heaviest.port > 65535) return { problem: `backend ${heaviest.name} has no valid port` }
  return { value: { name: heaviest.name, port: heaviest.port } }
}

/** The paths of a rule's matches: PathPrefix → Prefix, Exact → Exact, none → `/` Prefix. */
const pathsOf = (rule: RouteRuleView): ReadonlyArray<Outcome<{ readonly path: string; readonly pathType: PathType }>> => {
  const matches = rule.matches ?? []
  if (matches.length === 0) return [{ value: { path: "/", pathType: "Prefix" } }]
  return matches.map((match) => {
    const type = match.path?.type ?? "PathPrefix"
    const path = match.path?.value ?? "/"
    if (type === "PathPrefix") return { value: { path, pathType: "Prefix" } }
    if (type === "Exact") return { value: { path, pathType: "Exact" } }
    return { problem: `${type} matches are not supported` }
  })
}

/** The Gateways that accepted the route, with the HTTP(S) listeners it attaches to. */
const attachmentsOf = (route: HTTPRouteView, gateways: GatewayIndex, namespace: string): ReadonlyArray<Attachment> =>
  (route.spec.parentRefs ?? []).filter(isGatewayRef).filter((p) => accepted(route, p, namespace)).flatMap((parent) => {
    const gateway = gateways.get(`${parent.namespace ?? namespace}/${parent.name}`)
    if (gateway === undefined) return []
    const listeners = gateway.spec.listeners.filter((l) => httpListener(l) && (parent.sectionName === undefined || l.name === parent.sectionName))
    return [{ gateway, listeners }]
  })

/** What every route of one HTTPRoute shares. */
interface RouteContext {
  readonly route: HTTPRouteView
  readonly namespace: string
  readonly listeners: ReadonlyArray<ListenerView>
  readonly annotations: Record<string, string>
  readonly skip: (reason: SkipReason, detail: string, host?: string, path?: string) => Skipped
}

/** The routes of one hostname: one per rule and path match, or why not. */
const routesOfHost = (context: RouteContext, raw: string): ReadonlyArray<Route | Skipped> => {
  const host = normalizeHost(raw)
  if (!isValidHost(host)) return [context.skip("invalid_host", "not a valid DNS name", raw)]
  // TLS when a listener the route attaches to for this host terminates HTTPS.
  const tls = context.listeners.some((l) => l.protocol === "HTTPS" && (l.hostname === undefined || tlsHostCovers(normalizeHost(l.hostname), host)))
  return (context.route.spec.rules ?? [{}]).flatMap((rule) => {
    const backend = backendOf(rule, context.namespace)
    return pathsOf(rule).map((match) => {
      if ("problem" in match) return context.skip("unsupported_match", match.problem, host)
      if ("problem" in backend) return context.skip("invalid_backend", backend.problem, host, match.value.path)
      return new Route({
        hostname: host, ...match.value, namespace: context.namespace, ingressName: context.route.metadata.name,
        serviceName: backend.value.name, servicePort: backend.value.port, tls, annotations: context.annotations
      })
    })
  })
}

/** Routes of one HTTPRoute through the Gateways in `gateways`, before conflicts are settled. */
export const routesOfHTTPRoute = (route: HTTPRouteView, gateways: GatewayIndex, selection: IngressSelection): Extracted => {
  const owner = httpRouteOwner(route)
  const namespace = route.metadata.namespace ?? "default"
  const skip = (reason: SkipReason, detail: string, host?: string, path?: string): Skipped =>
    ({ ingress: owner, ...(host === undefined ? {} : { host }), ...(path === undefined ? {} : { path }), reason, detail })
  const notSelected = checkObject(route.metadata, selection)
  if (Option.isSome(notSelected)) return { routes: [], skipped: [skip(notSelected.value.reason, notSelected.value.detail)] }
  const attachments = attachmentsOf(route, gateways, namespace)
  if (attachments.length === 0) return { routes: [], skipped: [skip("not_accepted", "no known Gateway has accepted the route yet")] }
  const selected = selection.gatewayClasses.length === 0 ? attachments
    : attachments.filter((a) => selection.gatewayClasses.includes(a.gateway.spec.gatewayClassName))
  if (selected.length === 0) {
    const classes = [...new Set(attachments.map((a) => a.gateway.spec.gatewayClassName))].join(", ")
    return { routes: [], skipped: [skip("filtered_class", `gateway class ${classes} is not selected`)] }
  }
  const listeners = selected.flatMap((a) => a.listeners)
  const named = route.spec.hostnames ?? []
  const hostnames = named.length > 0 ? named : Arr.dedupe(listeners.flatMap((l) => (l.hostname === undefined ? [] : [l.hostname])))
  if (hostnames.length === 0) return { routes: [], skipped: [skip("no_host", "neither the route nor its listeners name a hostname")] }

  const annotations: Record<string, string> = { ...route.metadata.annotations, [sourceAnnotation]: "httproute" }
  delete annotations[lastAppliedAnnotation]
  const context: RouteContext = { route, namespace, listeners, annotations, skip }
  const routes = new Map<RouteKey, Route>()
  const skipped: Array<Skipped> = []
  for (const outcome of hostnames.flatMap((host) => routesOfHost(context, host))) {
    if (!(outcome instanceof Route)) skipped.push(outcome)
    else if (routes.has(outcome.key)) skipped.push(skip("duplicate", "the route lists this host and path twice", outcome.hostname, outcome.path))
    else routes.set(outcome.key, outcome)
  }
  return { routes: [...routes.values()], skipped }
}
