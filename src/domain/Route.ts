/**
 * A route: one (hostname, path) of one Ingress, pointing at that Ingress's backend Service.
 */
import { Schema } from "effect"

/** How the controller reaches the cluster: straight to its public endpoint, or through the agent. */
export const RoutingMode = Schema.Literal("direct", "tunnel")
export type RoutingMode = typeof RoutingMode.Type

/** Kubernetes `pathType`; a missing one means `ImplementationSpecific`. */
export const PathType = Schema.Literal("Exact", "Prefix", "ImplementationSpecific")
export type PathType = typeof PathType.Type

/** One registrable route, in the controller's terms but camelCase. */
export class Route extends Schema.Class<Route>("Route")({
  /** Lower-case, no trailing dot; may be a wildcard (`*.example.com`). */
  hostname: Schema.String,
  path: Schema.String,
  pathType: PathType,
  namespace: Schema.String,
  ingressName: Schema.String,
  serviceName: Schema.String,
  servicePort: Schema.Int,
  tls: Schema.Boolean,
  annotations: Schema.Record({ key: Schema.String, value: Schema.String })
}) {
  /** The registry key: pathType is not part of it. */
  get key(): RouteKey {
    return routeKey(this.hostname, this.path)
  }

  /** `namespace/name` of the Ingress that claims this route. */
  get ingress(): string {
    return `${this.namespace}/${this.ingressName}`
  }
}

/** What identifies a route in the registry. */
export interface HostAndPath {
  readonly hostname: string
  readonly path: string
}

/** `hostname` and `path` joined by a character neither can contain. */
export type RouteKey = string & { readonly RouteKey: unique symbol }

/** The registry key of (hostname, path). */
export const routeKey = (hostname: string, path: string): RouteKey => `${hostname}\u0000${path}` as RouteKey

const scalarFields = [
  "hostname", "path", "pathType", "namespace", "ingressName", "serviceName", "servicePort", "tls"
] as const

/** Whether two routes carry the same content, annotations included: equal routes need no call. */
export const sameRoute = (a: Route, b: Route): boolean =>
  scalarFields.every((field) => a[field] === b[field]) && sameAnnotations(a, b)

const sameAnnotations = (a: Route, b: Route): boolean => {
  const keys = Object.keys(a.annotations)
  return keys.length === Object.keys(b.annotations).length &&
    keys.every((key) => a.annotations[key] === b.annotations[key])
}

/** Orders routes (or anything with a hostname and a path) by hostname, then path. */
export const byHostThenPath = (a: HostAndPath, b: HostAndPath): -1 | 0 | 1 =>
  a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0
