/**
 * The desired routes, kept incrementally: each Ingress's routes are extracted again only when it,
 * a Service in its namespace, or the IngressClasses change; conflicts are settled over all of them.
 */
import { Option } from "effect"
import { createdAt, resolveConflicts, type Claim } from "../domain/DesiredRoutes.js"
import { routesOfIngress, type Extracted, type Skipped } from "../domain/IngressRoutes.js"
import { checkSelection, defaultClassNames, type IngressSelection } from "../domain/IngressSelection.js"
import type { Route } from "../domain/Route.js"
import type { ClusterSnapshot, Change } from "./ClusterCache.js"

/** One Ingress's extraction. */
interface Entry {
  readonly claims: ReadonlyArray<Claim>
  readonly skipped: ReadonlyArray<Skipped>
}

/** Per-Ingress extractions by `namespace/name`; owned by the engine's fiber. */
export type ExtractionCache = Map<string, Entry>

const extract = (
  snapshot: ClusterSnapshot,
  selection: IngressSelection,
  defaults: ReadonlySet<string>,
  key: string
): Option.Option<Entry> => {
  const ingress = snapshot.ingresses.get(key)
  if (ingress === undefined) return Option.none()
  const notSelected = checkSelection(ingress, selection, defaults)
  if (Option.isSome(notSelected)) return Option.some({ claims: [], skipped: [{ ingress: key, ...notSelected.value }] })
  // The snapshot's Services are keyed by namespace/name, as port resolution looks them up.
  const extracted = routesOfIngress(ingress, snapshot.services)
  const time = createdAt(ingress)
  return Option.some({ claims: extracted.routes.map((route) => ({ route, createdAt: time })), skipped: extracted.skipped })
}

/** The Ingress keys a set of changes makes stale; `all` when every Ingress is. */
export const staleIngresses = (changes: Iterable<Change>): ReadonlySet<string> | "all" => {
  const keys = new Set<string>()
  const namespaces = new Set<string>()
  for (const change of changes) {
    if (change.kind === "ingressClass") return "all"
    if (change.kind === "ingress") keys.add(change.key)
    // A Service change may resolve or unresolve named ports of Ingresses in its namespace.
    else namespaces.add(change.key.split("/")[0] ?? "")
  }
  return namespaces.size === 0 ? keys : new Set([...keys, ...[...namespaces].map((ns) => `${ns}/`)])
}

/** Re-extracts the stale Ingresses (a key ending in `/` stands for a whole namespace). */
export const refresh = (
  cache: ExtractionCache,
  snapshot: ClusterSnapshot,
  selection: IngressSelection,
  stale: ReadonlySet<string> | "all"
): void => {
  const namespaces = stale === "all" ? [] : [...stale].filter((k) => k.endsWith("/"))
  const keys = stale === "all"
    ? new Set([...cache.keys(), ...snapshot.ingresses.keys()])
    : new Set([
      ...[...stale].filter((k) => !k.endsWith("/")),
      ...[...snapshot.ingresses.keys(), ...cache.keys()].filter((k) => namespaces.some((ns) => k.startsWith(ns)))
    ])
  const defaults = defaultClassNames([...snapshot.ingressClasses.values()])
  for (const key of keys) {
    Option.match(extract(snapshot, selection, defaults, key), {
      onNone: () => cache.delete(key),
      onSome: (entry) => cache.set(key, entry)
    })
  }
}

/** The desired routes (conflicts settled) and everything left out. */
export const desired = (cache: ExtractionCache): Extracted => {
  const entries = [...cache.values()]
  const settled = resolveConflicts(entries.flatMap((e) => e.claims))
  return { routes: settled.routes, skipped: [...entries.flatMap((e) => e.skipped), ...settled.skipped] }
}

/** Routes grouped by hostname. */
export const byHost = (routes: Iterable<Route>): ReadonlyMap<string, ReadonlyArray<Route>> => {
  const hosts = new Map<string, Array<Route>>()
  for (const route of routes) {
    const list = hosts.get(route.hostname)
    if (list) list.push(route)
    else hosts.set(route.hostname, [route])
  }
  return hosts
}
