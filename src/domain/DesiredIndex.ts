/**
 * The desired routes, kept incrementally: each Ingress's routes are extracted again only when it,
 * a Service in its namespace, or the IngressClasses change, and a (hostname, path)'s winner is
 * settled again only when one of its claims changed. The engine then plans only the hostnames that
 * changed: diffing every route on every event made each event cost O(all routes).
 */
import { Option } from "effect"
import { claimsOfHTTPRoute, claimsOfIngress, resolveConflicts, type Claim, type IngressClaims } from "./DesiredRoutes.js"
import type { GatewayView, HTTPRouteView } from "./GatewayViews.js"
import type { Extracted } from "./IngressRoutes.js"
import { defaultClassNames, type IngressSelection } from "./IngressSelection.js"
import type { Route, RouteKey } from "./Route.js"
import type { IngressClassView, IngressView, ServiceView } from "./Views.js"

/** The decoded objects, by key (`namespace/name`, or `name` for IngressClasses). */
export interface ClusterSnapshot {
  readonly ingresses: ReadonlyMap<string, IngressView>
  readonly services: ReadonlyMap<string, ServiceView>
  readonly ingressClasses: ReadonlyMap<string, IngressClassView>
  /** Empty while the cluster does not serve the Gateway API. */
  readonly gateways: ReadonlyMap<string, GatewayView>
  readonly httpRoutes: ReadonlyMap<string, HTTPRouteView>
}

/** Which object changed; readers re-read state, so a change carries only the key. */
export interface Change {
  readonly kind: "ingress" | "service" | "ingressClass" | "gateway" | "httproute"
  readonly key: string
}

/** Entries of HTTPRoutes are keyed by this prefix and their `namespace/name`. */
const httpRoutePrefix = "httproute/"

/** One Ingress's extraction. */
type Entry = IngressClaims

/** What is desired, indexed for incremental updates; owned and mutated by one fiber. */
export interface DesiredIndex {
  /** Per-Ingress extractions by `namespace/name`. */
  readonly entries: Map<string, Entry>
  /** Every claim on each (hostname, path). */
  readonly claims: Map<RouteKey, Array<Claim>>
  /** The winning route of each (hostname, path), by hostname. */
  readonly byHost: Map<string, Map<RouteKey, Route>>
}

export const makeDesiredIndex = (): DesiredIndex => ({ entries: new Map(), claims: new Map(), byHost: new Map() })

const extract = (
  snapshot: ClusterSnapshot,
  selection: IngressSelection,
  defaults: ReadonlySet<string>,
  key: string
): Option.Option<Entry> =>
  key.startsWith(httpRoutePrefix)
    ? Option.map(Option.fromNullable(snapshot.httpRoutes.get(key.slice(httpRoutePrefix.length))), (route) => claimsOfHTTPRoute(route, snapshot.gateways, selection))
    // The snapshot's Services are keyed by namespace/name, as port resolution looks them up.
    : Option.map(Option.fromNullable(snapshot.ingresses.get(key)), (ingress) => claimsOfIngress(ingress, selection, defaults, snapshot.services))

/** The Ingress keys a set of changes makes stale; `all` when every Ingress is. */
export const staleIngresses = (changes: Iterable<Change>): ReadonlySet<string> | "all" => {
  const keys = new Set<string>()
  const namespaces = new Set<string>()
  for (const change of changes) {
    if (change.kind === "ingressClass") return "all"
    if (change.kind === "ingress") keys.add(change.key)
    else if (change.kind === "httproute") keys.add(`${httpRoutePrefix}${change.key}`)
    // A Gateway's listeners, status and class decide every HTTPRoute's routes: the prefix stands for them all.
    else if (change.kind === "gateway") keys.add(httpRoutePrefix)
    // A Service change may resolve or unresolve named ports of Ingresses in its namespace.
    else namespaces.add(change.key.split("/")[0] ?? "")
  }
  return namespaces.size === 0 ? keys : new Set([...keys, ...[...namespaces].map((ns) => `${ns}/`)])
}

/** Settles one (hostname, path) again from its claims; returns its hostname. */
const settle = (cache: DesiredIndex, key: RouteKey, hostname: string): string => {
  const group = cache.claims.get(key) ?? []
  const routes = cache.byHost.get(hostname) ?? new Map<RouteKey, Route>()
  const winner = group.length === 0 ? undefined : resolveConflicts(group).routes[0]
  if (winner === undefined) routes.delete(key)
  else routes.set(key, winner)
  if (routes.size === 0) cache.byHost.delete(hostname)
  else cache.byHost.set(hostname, routes)
  return hostname
}

/** Replaces one Ingress's entry and its claims; returns the (hostname, path)s it touched. */
const replaceEntry = (cache: DesiredIndex, key: string, next: Option.Option<Entry>): ReadonlyArray<Route> => {
  const previous = cache.entries.get(key)
  for (const { route } of previous?.claims ?? []) {
    const remaining = (cache.claims.get(route.key) ?? []).filter((c) => c.owner !== key)
    if (remaining.length === 0) cache.claims.delete(route.key)
    else cache.claims.set(route.key, remaining)
  }
  Option.match(next, { onNone: () => cache.entries.delete(key), onSome: (entry) => cache.entries.set(key, entry) })
  for (const claim of Option.match(next, { onNone: () => [], onSome: (e) => e.claims })) {
    const group = cache.claims.get(claim.route.key)
    if (group) group.push(claim)
    else cache.claims.set(claim.route.key, [claim])
  }
  return [...(previous?.claims ?? []), ...Option.match(next, { onNone: () => [], onSome: (e) => e.claims })].map((c) => c.route)
}

/**
 * Re-extracts the stale Ingresses (a key ending in `/` stands for a whole namespace) and returns
 * the hostnames whose desired routes may have changed.
 */
export const refresh = (
  cache: DesiredIndex,
  snapshot: ClusterSnapshot,
  selection: IngressSelection,
  stale: ReadonlySet<string> | "all"
): ReadonlySet<string> => {
  const namespaces = stale === "all" ? [] : [...stale].filter((k) => k.endsWith("/"))
  const known = () => [...snapshot.ingresses.keys(), ...[...snapshot.httpRoutes.keys()].map((k) => `${httpRoutePrefix}${k}`), ...cache.entries.keys()]
  const keys = stale === "all"
    ? new Set(known())
    : new Set([...[...stale].filter((k) => !k.endsWith("/")), ...(namespaces.length === 0 ? [] : known().filter((k) => namespaces.some((ns) => k.startsWith(ns))))])
  const defaults = defaultClassNames([...snapshot.ingressClasses.values()])
  const touched = new Map<RouteKey, string>()
  for (const key of keys) {
    for (const route of replaceEntry(cache, key, extract(snapshot, selection, defaults, key))) touched.set(route.key, route.hostname)
  }
  return new Set([...touched].map(([key, hostname]) => settle(cache, key, hostname)))
}

/** The desired routes of some hostnames. */
export const routesOfHosts = (cache: DesiredIndex, hostnames: Iterable<string>): ReadonlyArray<Route> =>
  [...hostnames].flatMap((hostname) => [...(cache.byHost.get(hostname)?.values() ?? [])])

/** Every desired route (conflicts settled) and everything left out. */
export const desired = (cache: DesiredIndex): Extracted => {
  const entries = [...cache.entries.values()]
  const settled = resolveConflicts(entries.flatMap((e) => e.claims))
  return { routes: settled.routes, skipped: [...entries.flatMap((e) => e.skipped), ...settled.skipped] }
}
