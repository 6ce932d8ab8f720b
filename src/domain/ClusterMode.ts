/**
 * Cluster type and routing mode: find the ingress controller's Service, read its
 * load balancer status, and decide between `direct` routing to a public endpoint and `tunnel`.
 */
import { Array as Arr, Data, Either, Option, Order } from "effect"
import { formatEndpoint, isIpAddress, isPrivateHostname, isPrivateIp } from "./Addresses.js"
import type { RoutingMode } from "./Route.js"
import { objectKey, type ServicePortView, type ServiceView } from "./Views.js"

/** Well-known ingress controller Services, tried in this order (tier 1). */
export const wellKnownControllers: ReadonlyArray<string> = [
  "ingress-nginx/ingress-nginx-controller",
  "kube-system/traefik",
  "traefik/traefik",
  "kube-system/rke2-ingress-nginx-controller"
]

/** `app.kubernetes.io/name` values of ingress controllers (tier 2). */
export const controllerNames: ReadonlySet<string> = new Set([
  "ingress-nginx", "nginx-ingress", "traefik", "haproxy-ingress", "kubernetes-ingress", "kong",
  "contour", "envoy", "emissary-ingress", "skipper"
])

/** Operator overrides; each absent field means "detect". */
export interface ModeOverrides {
  /** `namespace/name` of the ingress controller Service. */
  readonly ingressService?: string | undefined
  readonly routingMode?: RoutingMode | undefined
  /** `address:port` to report instead of the detected endpoint. */
  readonly publicEndpoint?: string | undefined
}

/** How the controller reaches the cluster. `publicEndpoint` is `""` exactly when `tunnel`. */
export interface RoutingDecision {
  readonly routingMode: RoutingMode
  readonly publicEndpoint: string
  readonly isPrivate: boolean
  /** `namespace/name` of the Service the decision was read from, if one was found. */
  readonly ingressService: Option.Option<string>
  /** Where tunnel traffic goes: that Service as `<name>.<namespace>.svc:<port>`. */
  readonly upstream: Option.Option<string>
}

/** `direct` was forced but there is no endpoint: neither detected nor given. */
export class DirectWithoutEndpoint extends Data.TaggedError("DirectWithoutEndpoint")<{
  readonly ingressService: Option.Option<string>
}> {
  override get message(): string {
    return "routing_mode is direct but no public endpoint was detected or configured (public_endpoint)"
  }
}

const isLoadBalancer = (service: ServiceView): boolean => service.spec.type === "LoadBalancer"
const isTcp = (port: ServicePortView): boolean => (port.protocol ?? "TCP") === "TCP"
const byKey = Order.mapInput(Order.string, (service: ServiceView) => objectKey(service.metadata))

/**
 * The ingress controller Service: the configured one if any (whatever its type), else the first
 * non-empty tier among LoadBalancer Services: well-known names in order; then controller labels;
 * then any with a TCP port 80 or 443. Ties within tiers 2 and 3 go to the smaller `namespace/name`.
 */
export const findIngressService = (
  services: ReadonlyArray<ServiceView>,
  configured?: string
): Option.Option<ServiceView> => {
  if (configured !== undefined) return Arr.findFirst(services, (s) => objectKey(s.metadata) === configured)
  const candidates = services.filter(isLoadBalancer)
  const named = Arr.findFirst(wellKnownControllers, (key) =>
    Arr.findFirst(candidates, (s) => objectKey(s.metadata) === key))
  if (Option.isSome(named)) return named
  const labelled = candidates.filter((s) => controllerNames.has(s.metadata.labels?.["app.kubernetes.io/name"] ?? ""))
  const webFacing = candidates.filter((s) => (s.spec.ports ?? []).some((p) => isTcp(p) && (p.port === 80 || p.port === 443)))
  const tier = labelled.length > 0 ? labelled : webFacing
  return Arr.head(Arr.sort(tier, byKey))
}

/** The first public load balancer address of a LoadBalancer Service, `ip` before `hostname`. */
export const publicAddress = (service: ServiceView): Option.Option<string> => {
  if (!isLoadBalancer(service)) return Option.none()
  const addresses = (service.status?.loadBalancer?.ingress ?? []).flatMap((entry) =>
    [entry.ip, entry.hostname].filter((a): a is string => a !== undefined && a !== ""))
  return Arr.findFirst(addresses, isPublicAddress)
}

const isPublicAddress = (address: string): boolean =>
  isIpAddress(address) ? !isPrivateIp(address) : !isPrivateHostname(address)

/** The endpoint port: the TCP port named `http`, else TCP port 80, else the first TCP port. */
export const endpointPort = (service: ServiceView): Option.Option<number> => {
  const tcp = (service.spec.ports ?? []).filter(isTcp)
  return Arr.findFirst(tcp, (p) => p.name === "http").pipe(
    Option.orElse(() => Arr.findFirst(tcp, (p) => p.port === 80)),
    Option.orElse(() => Arr.head(tcp)),
    Option.map((p) => p.port)
  )
}

/** A Service's in-cluster address for tunnel traffic, on its endpoint port. */
export const serviceUpstream = (service: ServiceView): Option.Option<string> =>
  Option.map(endpointPort(service), (port) => `${service.metadata.name}.${service.metadata.namespace ?? "default"}.svc:${port}`)

/** The detected public endpoint (`address:port`) of a Service, if it has one. */
export const detectEndpoint = (service: ServiceView): Option.Option<string> =>
  Option.zipWith(publicAddress(service), endpointPort(service), formatEndpoint)

/**
 * The routing decision, overrides applied: the endpoint is the override, else the detected one;
 * the mode is the override, else `direct` exactly when there is an endpoint. Forcing `direct` with
 * no endpoint fails with `DirectWithoutEndpoint`.
 */
export const decideRouting = (
  services: ReadonlyArray<ServiceView>,
  overrides: ModeOverrides = {}
): Either.Either<RoutingDecision, DirectWithoutEndpoint> => {
  const service = findIngressService(services, overrides.ingressService)
  const ingressService = Option.map(service, (s) => objectKey(s.metadata))
  const upstream = Option.flatMap(service, serviceUpstream)
  const endpoint = overrides.publicEndpoint !== undefined && overrides.publicEndpoint !== ""
    ? Option.some(overrides.publicEndpoint)
    : Option.flatMap(service, detectEndpoint)
  const routingMode = overrides.routingMode ?? (Option.isSome(endpoint) ? "direct" : "tunnel")
  if (routingMode === "tunnel") {
    return Either.right({ routingMode, publicEndpoint: "", isPrivate: true, ingressService, upstream })
  }
  return Option.match(endpoint, {
    onNone: () => Either.left(new DirectWithoutEndpoint({ ingressService })),
    onSome: (publicEndpoint) => Either.right({ routingMode, publicEndpoint, isPrivate: false, ingressService, upstream })
  })
}
