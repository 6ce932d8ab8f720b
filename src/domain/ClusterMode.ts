/**
 * Cluster type and routing mode: find the ingress controller's Service, read its
 * load balancer status, and decide between `direct` routing to a public endpoint and `tunnel`.
 */
import { Array as Arr, Data, Either, Option, Order } from "effect"
import { formatEndpoint, isIpAddress, isPrivateHostname, isPrivateIp } from "./Addresses.js"
import type { RoutingMode } from "./Route.js"
import type { GatewayAddressView, GatewayView } from "./GatewayViews.js"
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
  /** `namespace/name` of the Gateway that is the entry point (exclusive with `ingressService`). */
  readonly gateway?: string | undefined
}

/** How the controller reaches the cluster. `publicEndpoint` is `""` exactly when `tunnel`. */
export interface RoutingDecision {
  readonly routingMode: RoutingMode
  readonly publicEndpoint: string
  readonly isPrivate: boolean
  /** What the decision was read from, if anything: `namespace/name` of a Service, `gateway/namespace/name` of a Gateway. */
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
 * The Gateway that is the entry point: the configured one, else the Gateway with addresses whose
 * `namespace/name` is smallest.
 */
export const findGateway = (gateways: ReadonlyArray<GatewayView>, configured?: string): Option.Option<GatewayView> =>
  configured !== undefined
    ? Arr.findFirst(gateways, (g) => objectKey(g.metadata) === configured)
    : Arr.head(Arr.sort(gateways.filter((g) => (g.status?.addresses ?? []).length > 0), Order.mapInput(Order.string, (g: GatewayView) => objectKey(g.metadata))))

/** A Gateway's addresses, `IPAddress` entries (the default type) before `Hostname` ones. */
const gatewayAddresses = (gateway: GatewayView): ReadonlyArray<string> => {
  const all = gateway.status?.addresses ?? []
  const isIp = (a: GatewayAddressView) => (a.type ?? "IPAddress") === "IPAddress"
  return [...all.filter(isIp), ...all.filter((a) => a.type === "Hostname")].map((a) => a.value).filter((v) => v !== "")
}

/** The port of a Gateway's first `HTTP` listener. */
const httpListenerPort = (gateway: GatewayView): Option.Option<number> =>
  Option.map(Arr.findFirst(gateway.spec.listeners, (l) => l.protocol === "HTTP"), (l) => l.port)

/** The detected public endpoint of a Gateway: its first public address on its HTTP listener's port. */
export const gatewayEndpoint = (gateway: GatewayView): Option.Option<string> =>
  Option.zipWith(Arr.findFirst(gatewayAddresses(gateway), isPublicAddress), httpListenerPort(gateway), formatEndpoint)

/** Where tunnel traffic goes through a Gateway: its first address on its HTTP listener's port. */
export const gatewayUpstream = (gateway: GatewayView): Option.Option<string> =>
  Option.zipWith(Arr.head(gatewayAddresses(gateway)), httpListenerPort(gateway), formatEndpoint)

/** The entry point: the ingress controller Service, else (none found, or one configured) a Gateway. */
const entryPoint = (services: ReadonlyArray<ServiceView>, gateways: ReadonlyArray<GatewayView>, overrides: ModeOverrides) => {
  const service = overrides.gateway !== undefined ? Option.none() : findIngressService(services, overrides.ingressService)
  if (Option.isSome(service)) {
    return { source: Option.some(objectKey(service.value.metadata)), endpoint: detectEndpoint(service.value), upstream: serviceUpstream(service.value) }
  }
  const gateway = overrides.ingressService !== undefined ? Option.none() : findGateway(gateways, overrides.gateway)
  return {
    source: Option.map(gateway, (g) => `gateway/${objectKey(g.metadata)}`),
    endpoint: Option.flatMap(gateway, gatewayEndpoint),
    upstream: Option.flatMap(gateway, gatewayUpstream)
  }
}

/**
 * The routing decision, overrides applied: the endpoint is the override, else the detected one;
 * the mode is the override, else `direct` exactly when there is an endpoint. Forcing `direct` with
 * no endpoint fails with `DirectWithoutEndpoint`.
 */
export const decideRouting = (
  services: ReadonlyArray<ServiceView>,
  overrides: ModeOverrides = {},
  gateways: ReadonlyArray<GatewayView> = []
): Either.Either<RoutingDecision, DirectWithoutEndpoint> => {
  const entry = entryPoint(services, gateways, overrides)
  const ingressService = entry.source
  const upstream = entry.upstream
  const endpoint = overrides.publicEndpoint !== undefined && overrides.publicEndpoint !== ""
    ? Option.some(overrides.publicEndpoint)
    : entry.endpoint
  const routingMode = overrides.routingMode ?? (Option.isSome(endpoint) ? "direct" : "tunnel")
  if (routingMode === "tunnel") {
    return Either.right({ routingMode, publicEndpoint: "", isPrivate: true, ingressService, upstream })
  }
  return Option.match(endpoint, {
    onNone: () => Either.left(new DirectWithoutEndpoint({ ingressService })),
    onSome: (publicEndpoint) => Either.right({ routingMode, publicEndpoint, isPrivate: false, ingressService, upstream })
  })
}
