/**
 * The cluster's desired routes: every selected Ingress's routes, with conflicts between Ingresses
 * settled deterministically.
 */
import { Option } from "effect"
import { checkSelection, defaultClassNames, type IngressSelection } from "./IngressSelection.js"
import { routesOfIngress, type Extracted, type ServiceIndex, type Skipped } from "./IngressRoutes.js"
import { byHostThenPath, type Route, type RouteKey } from "./Route.js"
import { objectKey, type IngressClassView, type IngressView, type ServiceView } from "./Views.js"

/** The decoded objects extraction reads. */
export interface ClusterObjects {
  readonly ingresses: ReadonlyArray<IngressView>
  readonly services: ReadonlyArray<ServiceView>
  readonly ingressClasses: ReadonlyArray<IngressClassView>
}

/** A route with its Ingress's creation time (ms since the epoch; `Infinity` when unknown). */
export interface Claim {
  readonly route: Route
  readonly createdAt: number
}

/** The creation time of an Ingress in ms; a missing or malformed timestamp counts as newest. */
export const createdAt = (ingress: IngressView): number => {
  const parsed = Date.parse(ingress.metadata.creationTimestamp ?? "")
  return Number.isNaN(parsed) ? Infinity : parsed
}

/** Orders claims on one key: the older Ingress first, ties to the smaller `namespace/name`. */
const byPrecedence = (a: Claim, b: Claim): number =>
  a.createdAt !== b.createdAt
    ? a.createdAt - b.createdAt
    : a.route.ingress < b.route.ingress ? -1 : a.route.ingress > b.route.ingress ? 1 : 0

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
    for (const { route } of losers) {
      const detail = `${route.hostname}${route.path} is claimed by ${winner.route.ingress}`
      skipped.push({ ingress: route.ingress, host: route.hostname, path: route.path, reason: "conflict", detail })
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
  const notSelected = checkSelection(ingress, selection, defaults)
  if (Option.isSome(notSelected)) return { claims: [], skipped: [{ ingress: objectKey(ingress.metadata), ...notSelected.value }] }
  const extracted = routesOfIngress(ingress, services)
  const time = createdAt(ingress)
  return { claims: extracted.routes.map((route) => ({ route, createdAt: time })), skipped: extracted.skipped }
}

/**
 * The desired routes of a cluster, sorted by hostname and path, and everything left out: filtered
 * and opted-out Ingresses, unroutable rules and paths, lost conflicts.
 */
export const desiredRoutes = (cluster: ClusterObjects, selection: IngressSelection): Extracted => {
  const services = indexServices(cluster.services)
  const defaults = defaultClassNames(cluster.ingressClasses)
  const perIngress = cluster.ingresses.map((ingress) => claimsOfIngress(ingress, selection, defaults, services))
  const settled = resolveConflicts(perIngress.flatMap((i) => i.claims))
  return {
    routes: [...settled.routes].sort(byHostThenPath),
    skipped: [...perIngress.flatMap((i) => i.skipped), ...settled.skipped]
  }
}
