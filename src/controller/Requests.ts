/**
 * Controller request bodies built from domain routes and the routing decision.
 */
import { Array as Arr } from "effect"
import { byHostThenPath, type Route } from "../domain/Route.js"
import type { RoutingDecision } from "../domain/ClusterMode.js"
import { RegisterRouteRequest, SyncIngress, SyncIngressesRequest, SyncPath, SyncRule, UnregisterRouteRequest } from "./Wire.js"

// The bodies are built from validated routes; validating them again in the constructors was the
// largest cost of a 10,000-Ingress sync. Encoding still checks them against the wire schemas.
const trusted = true

/** What every request says about the cluster itself. */
export interface ClusterIdentity {
  readonly clusterUuid: string
  readonly decision: Pick<RoutingDecision, "routingMode" | "publicEndpoint">
}

/** The register body of one route. */
export const registerRequest = (route: Route, cluster: ClusterIdentity): RegisterRouteRequest =>
  new RegisterRouteRequest({
    hostname: route.hostname,
    clusterUuid: cluster.clusterUuid,
    namespace: route.namespace,
    serviceName: route.serviceName,
    servicePort: route.servicePort,
    ingressName: route.ingressName,
    path: route.path,
    pathType: route.pathType,
    tls: route.tls,
    annotations: route.annotations,
    publicEndpoint: cluster.decision.publicEndpoint,
    routingMode: cluster.decision.routingMode
  }, trusted)

/** The unregister body of one hostname. */
export const unregisterRequest = (hostname: string, cluster: ClusterIdentity): UnregisterRouteRequest =>
  new UnregisterRouteRequest({ hostname, clusterUuid: cluster.clusterUuid }, trusted)

/** Groups by key, in key order. */
const sortedGroups = <A>(items: ReadonlyArray<A>, key: (a: A) => string) =>
  Object.entries(Arr.groupBy(items, key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const syncIngress = ([first, ...rest]: Arr.NonEmptyReadonlyArray<Route>): SyncIngress =>
  new SyncIngress({
    namespace: first.namespace,
    ingressName: first.ingressName,
    annotations: first.annotations,
    rules: sortedGroups([first, ...rest], (r) => r.hostname).map(([host, routes]) => new SyncRule({
      host,
      tls: routes.some((r) => r.tls),
      paths: routes.map((r) => new SyncPath({
        path: r.path, pathType: r.pathType, serviceName: r.serviceName, servicePort: r.servicePort
      }, trusted))
    }, trusted))
  }, trusted)

/**
 * The authoritative sync body of a set of routes: Ingresses sorted by `namespace/name`, their
 * rules by host, paths by path. Only Ingresses with at least one route appear.
 */
export const syncRequest = (routes: Iterable<Route>, cluster: ClusterIdentity): SyncIngressesRequest =>
  new SyncIngressesRequest({
    clusterUuid: cluster.clusterUuid,
    publicEndpoint: cluster.decision.publicEndpoint,
    routingMode: cluster.decision.routingMode,
    ingresses: sortedGroups([...routes].sort(byHostThenPath), (r) => r.ingress).map(([, group]) => syncIngress(group))
  }, trusted)
