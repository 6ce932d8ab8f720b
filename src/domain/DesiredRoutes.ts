/**
 * The cluster's desired routes: every selected Ingress's and HTTPRoute's routes, with conflicts
 * between them (whichever their kind) settled deterministically.
 */
import { Option } from "effect"
import { checkSelection, defaultClassNames, type IngressSelection } from "./IngressSelection.js"
import { routesOfIngress, type Extracted, type ServiceIndex, type Skipped } from "./IngressRoutes.js"
import { byHostThenPath, type Route, type RouteKey } from "./Route.js"
import type { GatewayView, HTTPRouteView } from "./GatewayViews.js"
import { httpRouteOwner, routesOfHTTPRoute, type GatewayIndex } from "./HTTPRouteRoutes.js"
import { objectKey, type IngressClassView, type IngressView, type ObjectMetaView, type ServiceView } from "./Views.js"

/** The decoded objects extraction reads. */
export interface ClusterObjects {
  readonly ingresses: ReadonlyArray<IngressView>
  readonly services: ReadonlyArray<ServiceView>
  readonly ingressClasses: ReadonlyArray<IngressClassView>
  readonly gateways: ReadonlyArray<GatewayView>
  readonly httpRoutes: ReadonlyArray<HTTPRouteView>
}

/**
 * A route with the object that claims it (`namespace/name` of an Ingress, `httproute/namespace/name`
 * of an HTTPRoute) and its creation time (ms since the epoch; `Infinity` when unknown).
 */
export interface Claim {
  readonly route: Route
  readonly owner: string
  readonly createdAt: number
}

/** The creation time of an object in ms; a missing or malformed timestamp counts as newest. */
export const createdAt = (object: { readonly metadata: ObjectMetaView }): number => {
  const parsed = Date.parse(object.metadata.creationTimestamp ?? "")
  return Number.isNaN(parsed) ? Infinity : parsed
}

/** Orders claims on one key: the older object first (whichever its kind), ties to the smaller owner key. */
const byPrecedence = (a: Claim, b: Claim): number =>
  a.createdAt !== b.createdAt ? a.createdAt - b.createdAt : a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0

/**
 * Settles claims on the same (hostname, path): the winner's route is kept; each loser's route is
 * skipped with reason `conflict`. Sharing a hostname on different paths is not a conflict.
 */
export const resolveConflicts = (claims: Iterable<Claim>): Extracted => {
  const byKey = new Map<RouteKey, Array<Claim>>()
  for (const claim of claims) {
    const group = byKey.get(claim.route.key)
    if (group) group.push(claim)
    else byKey.set(claim.route.key, [claim])
  }
  const routes: Array<Route> = []
  const skipped: Array<Skipped> = []
  for (const group of byKey.values()) {
    const [winner, ...losers] = group.sort(byPrecedence)
    if (winner === undefined) continue
    routes.push(winner.route)
    for (const { route, owner } of losers) {
      const detail = `${route.hostname}${route.path} is claimed by ${winner.owner}`
      skipped.push({ ingress: owner, host: route.hostname, path: route.path, reason: "conflict", detail })
    }
  }
  return { routes, skipped }
}

/** Services keyed by `namespace/name`. */
export const indexServices = (services: ReadonlyArray<ServiceView>): ServiceIndex =>
  new Map(services.map((service) => [objectKey(service.metadata), service]))

/** One Ingress's claims and everything of it left out. */
export interface IngressClaims {
  readonly claims: ReadonlyArray<Claim>
  readonly skipped: ReadonlyArray<Skipped>
}

/**
 * One Ingress's claims: none when the filters or the opt-out leave it out (reported as skipped),
 * else its routes, stamped with its creation time for conflicts.
 */
export const claimsOfIngress = (
  ingress: IngressView,
  selection: IngressSelection,
  defaults: ReadonlySet<string>,
  services: ServiceIndex
): IngressClaims => {
  const owner = objectKey(ingress.metadata)
  const notSelected = checkSelection(ingress, selection, defaults)
  if (Option.isSome(notSelected)) return { claims: [], skipped: [{ ingress: owner, ...notSelected.value }] }
  return claimsOf(routesOfIngress(ingress, services), owner, createdAt(ingress))
}

const claimsOf = (extracted: Extracted, owner: string, time: number): IngressClaims =>
  ({ claims: extracted.routes.map((route) => ({ route, owner, createdAt: time })), skipped: extracted.skipped })

/** One HTTPRoute's claims: its routes through the Gateways that accepted it, stamped for conflicts. */
export const claimsOfHTTPRoute = (route: HTTPRouteView, gateways: GatewayIndex, selection: IngressSelection): IngressClaims =>
  claimsOf(routesOfHTTPRoute(route, gateways, selection), httpRouteOwner(route), createdAt(route))

/** Gateways keyed by `namespace/name`. */
export const indexGateways = (gateways: ReadonlyArray<GatewayView>): GatewayIndex =>
  new Map(gateways.map((gateway) => [objectKey(gateway.metadata), gateway]))

/**
 * The desired routes of a cluster, sorted by hostname and path, and everything left out: filtered
 * and opted-out Ingresses, unroutable rules and paths, lost conflicts.
 */
export const desiredRoutes = (cluster: ClusterObjects, selection: IngressSelection): Extracted => {
  const services = indexServices(cluster.services)
  const defaults = defaultClassNames(cluster.ingressClasses)
  const gateways = indexGateways(cluster.gateways)
  const perIngress = [
    ...cluster.ingresses.map((ingress) => claimsOfIngress(ingress, selection, defaults, services)),
    ...cluster.httpRoutes.map((route) => claimsOfHTTPRoute(route, gateways, selection))
  ]
  const settled = resolveConflicts(perIngress.flatMap((i) => i.claims))
  return {
    routes: [...settled.routes].sort(byHostThenPath),
    skipped: [...perIngress.flatMap((i) => i.skipped), ...settled.skipped]
  }
}
