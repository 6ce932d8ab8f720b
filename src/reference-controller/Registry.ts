/**
 * The reference controller's route registry: pure operations on an immutable state. A hostname
 * belongs to one cluster at a time; its routes are keyed by path.
 */
import { Array as Arr, Either, HashMap, Option } from "effect"
import { RegisterRouteRequest, type SyncIngressesRequest } from "../controller/Wire.js"
import { byHostThenPath } from "../domain/Route.js"

/** The routes of one hostname and the cluster that owns it. */
interface HostEntry {
  readonly owner: string
  readonly routes: HashMap.HashMap<string, RegisterRouteRequest>
}

/** Every registered route, by hostname. */
export interface RegistryState {
  readonly hosts: HashMap.HashMap<string, HostEntry>
}

/** The hostname belongs to another cluster. */
export interface OwnedElsewhere {
  readonly hostname: string
  readonly owner: string
}

/** No routes. */
export const emptyRegistry: RegistryState = { hosts: HashMap.empty() }

const ownerConflict = (state: RegistryState, hostname: string, clusterUuid: string): Option.Option<OwnedElsewhere> =>
  HashMap.get(state.hosts, hostname).pipe(
    Option.filter((entry) => entry.owner !== clusterUuid),
    Option.map((entry) => ({ hostname, owner: entry.owner })))

/** Upserts one route (idempotent); refused when another cluster owns the hostname. */
export const register = (state: RegistryState, route: RegisterRouteRequest): Either.Either<RegistryState, OwnedElsewhere> =>
  Option.match(ownerConflict(state, route.hostname, route.clusterUuid), {
    onSome: Either.left,
    onNone: () => {
      const routes = Option.match(HashMap.get(state.hosts, route.hostname), {
        onNone: () => HashMap.empty<string, RegisterRouteRequest>(),
        onSome: (entry) => entry.routes
      })
      const entry = { owner: route.clusterUuid, routes: HashMap.set(routes, route.path, route) }
      return Either.right({ hosts: HashMap.set(state.hosts, route.hostname, entry) })
    }
  })

/** Removes every route of a hostname (idempotent: absent is fine); refused for another cluster's hostname. */
export const unregister = (
  state: RegistryState,
  clusterUuid: string,
  hostname: string
): Either.Either<RegistryState, OwnedElsewhere> =>
  Option.match(ownerConflict(state, hostname, clusterUuid), {
    onSome: Either.left,
    onNone: () => Either.right({ hosts: HashMap.remove(state.hosts, hostname) })
  })

/** The register bodies a sync stands for, one per (host, path); the sync was decoded, so they are not checked again. */
export const syncRoutes = (request: SyncIngressesRequest): ReadonlyArray<RegisterRouteRequest> =>
  request.ingresses.flatMap((ingress) => ingress.rules.flatMap((rule) => rule.paths.map((path) => new RegisterRouteRequest({
    hostname: rule.host,
    clusterUuid: request.clusterUuid,
    namespace: ingress.namespace,
    serviceName: path.serviceName,
    servicePort: path.servicePort,
    ingressName: ingress.ingressName,
    path: path.path,
    pathType: path.pathType,
    tls: rule.tls,
    annotations: ingress.annotations,
    publicEndpoint: request.publicEndpoint,
    routingMode: request.routingMode
  }, true))))

/**
 * Replaces the cluster's whole route set with the sync's. Hostnames another cluster owns are
 * not stored and are returned, sorted, as conflicts. The new set is grouped by hostname first
 * and put in at once: a sync of 20,000 routes is one pass, not 20,000 copies of the registry.
 */
export const sync = (
  state: RegistryState,
  request: SyncIngressesRequest
): { readonly state: RegistryState; readonly conflicts: ReadonlyArray<string> } => {
  const cluster = request.clusterUuid
  const byHost = new Map<string, Map<string, RegisterRouteRequest>>()
  for (const route of syncRoutes(request)) {
    const routes = byHost.get(route.hostname) ?? new Map<string, RegisterRouteRequest>()
    byHost.set(route.hostname, routes.set(route.path, route))
  }
  const conflicts = [...byHost.keys()].filter((hostname) => Option.isSome(ownerConflict(state, hostname, cluster))).sort()
  const refused = new Set(conflicts)
  const hosts = HashMap.mutate(HashMap.filter(state.hosts, (entry) => entry.owner !== cluster), (hosts) => {
    for (const [hostname, routes] of byHost) {
      if (!refused.has(hostname)) HashMap.set(hosts, hostname, { owner: cluster, routes: HashMap.fromIterable(routes) })
    }
  })
  return { state: { hosts }, conflicts }
}

/** The cluster's routes, sorted by hostname and path. */
export const routesOf = (state: RegistryState, clusterUuid: string): ReadonlyArray<RegisterRouteRequest> =>
  Arr.sort(
    Arr.flatMap(Arr.fromIterable(HashMap.values(state.hosts)), (entry) =>
      entry.owner === clusterUuid ? Arr.fromIterable(HashMap.values(entry.routes)) : []),
    byHostThenPath)
