/**
 * The plan that brings the controller's registry from what the agent registered to what the
 * cluster desires.
 */
import { byHostThenPath, sameRoute, type Route, type RouteKey } from "./Route.js"

/** The calls that reconcile `registered` with `desired`. An empty plan means "in step". */
export interface RoutePlan {
  /** New or changed (hostname, path) routes, sorted by hostname and path. */
  readonly register: ReadonlyArray<Route>
  /** Hostnames no desired route claims any more, sorted. */
  readonly unregister: ReadonlyArray<string>
  /**
   * Registered routes whose path went away from a hostname that is still claimed. The API has no
   * per-path unregister, so these need an authoritative sync.
   */
  readonly orphaned: ReadonlyArray<Route>
}

/** Counts the routes claiming each hostname: a hostname stays registered while its count is > 0. */
export const hostClaims = (routes: Iterable<Route>): ReadonlyMap<string, number> => {
  const claims = new Map<string, number>()
  for (const route of routes) claims.set(route.hostname, (claims.get(route.hostname) ?? 0) + 1)
  return claims
}

/** Compares desired with registered routes; unchanged routes produce no call. */
export const planRoutes = (desired: Iterable<Route>, registered: Iterable<Route>): RoutePlan => {
  const wanted = new Map<RouteKey, Route>()
  for (const route of desired) wanted.set(route.key, route)
  const current = new Map<RouteKey, Route>()
  for (const route of registered) current.set(route.key, route)
  const claimed = hostClaims(wanted.values())

  const register = [...wanted.values()].filter((route) => {
    const before = current.get(route.key)
    return before === undefined || !sameRoute(before, route)
  })
  const gone = [...current.values()].filter((route) => !wanted.has(route.key))
  const unregister = [...new Set(gone.filter((r) => !claimed.has(r.hostname)).map((r) => r.hostname))]
  const orphaned = gone.filter((route) => claimed.has(route.hostname))
  return {
    register: register.sort(byHostThenPath),
    unregister: unregister.sort(),
    orphaned: orphaned.sort(byHostThenPath)
  }
}
