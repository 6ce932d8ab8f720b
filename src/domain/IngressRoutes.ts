/**
 * Routes of one Ingress: one per (rule host, path), pointing at the Ingress's own
 * backend Service. Everything that cannot be routed is returned as a `Skipped` with its reason.
 */
import { Either } from "effect"
import { isValidHost, normalizeHost, tlsHostCovers } from "./Hostname.js"
import { Route, type PathType, type RouteKey } from "./Route.js"
import type { IngressBackendView, IngressPathView, IngressRuleView, IngressView, ServiceView } from "./Views.js"
import { objectKey } from "./Views.js"

/** Why a route, a rule or a whole Ingress is not registered. */
export type SkipReason =
  | "invalid_object" | "filtered_namespace" | "filtered_class" | "filtered_labels" | "opted_out"
  | "no_rules" | "no_host" | "invalid_host" | "no_paths" | "invalid_path" | "invalid_backend"
  | "resource_backend" | "unresolved_port" | "duplicate" | "conflict"
  // HTTPRoutes only.
  | "not_accepted" | "unsupported_match"

/** Something not registered: always its Ingress; `host` and `path` when the skip concerns one. */
export interface Skipped {
  readonly ingress: string
  readonly host?: string
  readonly path?: string
  readonly reason: SkipReason
  readonly detail: string
}

/** The outcome of extraction: routes to register and what was left out. */
export interface Extracted {
  readonly routes: ReadonlyArray<Route>
  readonly skipped: ReadonlyArray<Skipped>
}

/** Services by `namespace/name`, for resolving named ports. */
export type ServiceIndex = ReadonlyMap<string, ServiceView>

/** The annotation kubectl writes on `apply`: large, and of no use to the controller. */
export const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Every field was checked above; validating again in the constructor costs more than extraction.
const disableValidation = true

const pathTypes: ReadonlySet<string> = new Set<PathType>(["Exact", "Prefix", "ImplementationSpecific"])
const isPathType = (value: string): value is PathType => pathTypes.has(value)
// Segments Kubernetes rejects in Exact and Prefix paths.
const forbiddenInPath = ["//", "/./", "/../", "%2f", "%2F"]

/** Why a path is not routable, or `undefined` when it is. */
const pathProblem = (path: string, pathType: PathType): string | undefined => {
  if (pathType === "ImplementationSpecific") return undefined
  if (!path.startsWith("/")) return `${pathType} path must start with /`
  if (forbiddenInPath.some((s) => path.includes(s)) || path.endsWith("/..") || path.endsWith("/.")) {
    return `${pathType} path contains a forbidden segment`
  }
  return undefined
}

type Backend = { readonly serviceName: string; readonly servicePort: number }
type BackendProblem = { readonly reason: SkipReason; readonly detail: string }

/** A named port resolved through the same-namespace Service's `spec.ports` (its `port`, never `targetPort`). */
const resolveNamedPort = (
  serviceName: string,
  portName: string,
  namespace: string,
  services: ServiceIndex
): Either.Either<Backend, BackendProblem> => {
  const target = services.get(`${namespace}/${serviceName}`)
  const port = target?.spec.ports?.find((p) => p.name === portName)
  if (port !== undefined) return Either.right({ serviceName, servicePort: port.port })
  const detail = target === undefined ? `service ${serviceName} not found` : `service ${serviceName} has no port named ${portName}`
  return Either.left({ reason: "unresolved_port", detail })
}

/** The backend's Service and port; a number is taken as is, a name resolved through the Service. */
export const resolveBackend = (
  backend: IngressBackendView,
  namespace: string,
  services: ServiceIndex
): Either.Either<Backend, BackendProblem> => {
  const service = backend.service
  if (backend.resource !== undefined) {
    return Either.left({ reason: "resource_backend", detail: `resource backend ${backend.resource.kind}/${backend.resource.name}` })
  }
  if (service === undefined) return Either.left({ reason: "invalid_backend", detail: "backend has no service" })
  const { name, number } = service.port ?? {}
  if (number !== undefined) {
    return number >= 1 && number <= 65535
      ? Either.right({ serviceName: service.name, servicePort: number })
      : Either.left({ reason: "invalid_backend", detail: `port ${number} is out of range` })
  }
  return name === undefined || name === ""
    ? Either.left({ reason: "invalid_backend", detail: "backend port has neither number nor name" })
    : resolveNamedPort(service.name, name, namespace, services)
}

/** Whether the Ingress's own TLS entries cover `host`; an entry without hosts covers every host. */
export const isTlsHost = (ingress: IngressView, host: string): boolean =>
  (ingress.spec.tls ?? []).some((entry) =>
    entry.hosts === undefined || entry.hosts.length === 0 ||
    entry.hosts.some((pattern) => tlsHostCovers(normalizeHost(pattern), host)))

/** The Ingress's annotations without kubectl's last-applied configuration. */
export const routeAnnotations = (ingress: IngressView): Record<string, string> => {
  const annotations = { ...ingress.metadata.annotations }
  delete annotations[lastAppliedAnnotation]
  return annotations
}

interface IngressContext {
  readonly ingress: IngressView
  readonly key: string
  readonly namespace: string
  readonly annotations: Record<string, string>
  readonly services: ServiceIndex
}

/** The paths of a rule: its own, else `/` (Prefix) to the default backend, else none. */
const rulePaths = (ingress: IngressView, rule: IngressRuleView): ReadonlyArray<IngressPathView> => {
  if (rule.http && rule.http.paths.length > 0) return rule.http.paths
  const defaultBackend = ingress.spec.defaultBackend
  return defaultBackend ? [{ path: "/", pathType: "Prefix", backend: defaultBackend }] : []
}

/** The route of one path of a (valid) host, or why there is none. */
const routeOfPath = (
  context: IngressContext,
  host: string,
  entry: IngressPathView
): Either.Either<Route, Skipped> => {
  const path = entry.path === undefined || entry.path === "" ? "/" : entry.path
  const pathType = entry.pathType ?? "ImplementationSpecific"
  const skip = (reason: SkipReason, detail: string) => Either.left({ ingress: context.key, host, path, reason, detail })
  if (!isPathType(pathType)) return skip("invalid_path", `unknown pathType ${pathType}`)
  const problem = pathProblem(path, pathType)
  if (problem !== undefined) return skip("invalid_path", problem)
  return Either.map(resolveBackend(entry.backend, context.namespace, context.services), (backend) =>
    new Route({
      hostname: host, path, pathType, namespace: context.namespace, ingressName: context.ingress.metadata.name,
      ...backend, tls: isTlsHost(context.ingress, host), annotations: context.annotations
    }, disableValidation)).pipe(Either.mapLeft((problem) => ({ ingress: context.key, host, path, ...problem })))
}

/** The routes of one rule, or why it has none. */
const routesOfRule = (context: IngressContext, rule: IngressRuleView): ReadonlyArray<Either.Either<Route, Skipped>> => {
  const ingress = context.key
  if (rule.host === undefined || rule.host === "") {
    return [Either.left({ ingress, reason: "no_host", detail: "a rule without host cannot be routed by hostname" })]
  }
  const host = normalizeHost(rule.host)
  if (!isValidHost(host)) return [Either.left({ ingress, host: rule.host, reason: "invalid_host", detail: "not a valid DNS name" })]
  const paths = rulePaths(context.ingress, rule)
  if (paths.length === 0) {
    return [Either.left({ ingress, host, reason: "no_paths", detail: "rule has no http paths and the ingress no default backend" })]
  }
  return paths.map((entry) => routeOfPath(context, host, entry))
}

/** Routes of one (already selected) Ingress, before conflicts with other Ingresses are settled. */
export const routesOfIngress = (ingress: IngressView, services: ServiceIndex): Extracted => {
  const key = objectKey(ingress.metadata)
  const rules = ingress.spec.rules ?? []
  if (rules.length === 0) {
    const detail = ingress.spec.defaultBackend
      ? "a default backend without host rules cannot be routed by hostname"
      : "the ingress has no rules"
    return { routes: [], skipped: [{ ingress: key, reason: "no_rules", detail }] }
  }
  const context: IngressContext = {
    ingress, key, namespace: ingress.metadata.namespace ?? "default", annotations: routeAnnotations(ingress), services
  }
  const routes = new Map<RouteKey, Route>()
  const skipped: Array<Skipped> = []
  for (const outcome of rules.flatMap((rule) => routesOfRule(context, rule))) {
    if (Either.isLeft(outcome)) skipped.push(outcome.left)
    else if (routes.has(outcome.right.key)) {
      const { hostname: host, path } = outcome.right
      skipped.push({ ingress: key, host, path, reason: "duplicate", detail: "the ingress lists this host and path twice" })
    } else routes.set(outcome.right.key, outcome.right)
  }
  return { routes: [...routes.values()], skipped }
}
