/**
 * Which registered route a public request goes to: the exact hostname, else a one-label
 * wildcard (`*.example.com` for `shop.example.com`, not for `a.shop.example.com`); then the
 * longest matching path, Exact before Prefix at equal length. Prefix matches on `/` boundaries
 * (`/api` matches `/api` and `/api/x`, not `/apix`); ImplementationSpecific is a Prefix.
 */
import { Array as Arr, HashMap, Option, Order } from "effect"
import type { RegisterRouteRequest } from "../controller/Wire.js"
import { normalizeHost } from "../domain/Hostname.js"
import type { RegistryState } from "./Registry.js"

const matches = (route: RegisterRouteRequest, path: string): boolean => {
  if (route.pathType === "Exact") return path === route.path
  const prefix = route.path.replace(/\/+$/, "")
  return prefix === "" || path === prefix || path.startsWith(`${prefix}/`)
}

/** Longer paths first; at equal length, Exact first. */
const precedence = Order.combine(
  Order.reverse(Order.mapInput(Order.number, (r: RegisterRouteRequest) => r.path.replace(/\/+$/, "").length)),
  Order.mapInput(Order.number, (r: RegisterRouteRequest) => (r.pathType === "Exact" ? 0 : 1)))

/** The hostname of a `Host` header: lower case, without port or trailing dot. */
export const hostOf = (header: string): string => normalizeHost(header.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1"))

/** The route for `host` (a `Host` header) and `path` (a request target, query allowed). */
export const findRoute = (state: RegistryState, host: string, target: string): Option.Option<RegisterRouteRequest> => {
  const name = hostOf(host)
  const dot = name.indexOf(".")
  const entry = HashMap.get(state.hosts, name).pipe(
    Option.orElse(() => (dot > 0 ? HashMap.get(state.hosts, `*${name.slice(dot)}`) : Option.none())))
  const path = target.split("?")[0] ?? "/"
  return Option.flatMap(entry, (e) => Arr.head(Arr.sort(Arr.filter(Arr.fromIterable(HashMap.values(e.routes)), (r) => matches(r, path)), precedence)))
}
