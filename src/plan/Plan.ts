/**
 * `pipeops-agent plan`: what the agent would send for a set of manifests, computed offline.
 */
import { Either, Schema } from "effect"
import { decideRouting, type DirectWithoutEndpoint, type ModeOverrides } from "../domain/ClusterMode.js"
import { desiredRoutes, type ClusterObjects } from "../domain/DesiredRoutes.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
import type { Skipped } from "../domain/IngressRoutes.js"
import { decodeGateway, decodeHTTPRoute, type GatewayView, type HTTPRouteView } from "../domain/GatewayViews.js"
import { decodeIngress, decodeIngressClass, decodeService, type IngressClassView, type IngressView, type ServiceView } from "../domain/Views.js"
import { registerRequest, syncRequest } from "../controller/Requests.js"
import { RegisterRouteRequest, SyncIngressesRequest } from "../controller/Wire.js"
import { isRecord, type ManifestObject } from "./Manifests.js"

/** What `plan` is asked: which Ingresses, which overrides, which cluster. */
export interface PlanOptions {
  readonly selection: IngressSelection
  readonly overrides: ModeOverrides
  /** When absent: the uid of a `kube-system` Namespace among the manifests, else `""`. */
  readonly clusterUuid?: string | undefined
}

/** The JSON document `plan` prints. */
export interface PlanDocument {
  readonly detection: { readonly is_private: boolean; readonly routing_mode: string; readonly public_endpoint: string }
  readonly sync: unknown
  readonly routes: ReadonlyArray<unknown>
  readonly skipped: ReadonlyArray<Skipped>
}

/** The manifests sorted by kind, plus warnings for objects of a known kind that did not decode. */
export interface Sorted extends ClusterObjects {
  readonly skipped: ReadonlyArray<Skipped>
  readonly warnings: ReadonlyArray<string>
  readonly kubeSystemUid: string | undefined
}

const metaField = (object: Readonly<Record<string, unknown>>, field: string): string | undefined => {
  const meta = object["metadata"]
  const value = isRecord(meta) ? meta[field] : undefined
  return typeof value === "string" ? value : undefined
}

const nameOf = (object: Readonly<Record<string, unknown>>): string =>
  `${metaField(object, "namespace") ?? "default"}/${metaField(object, "name") ?? "<unnamed>"}`

const kindOf = (object: Readonly<Record<string, unknown>>): string => `${String(object["apiVersion"])} ${String(object["kind"])}`

/** Sorts manifest objects into the kinds extraction reads (Gateway API ones with their `status` as written); other kinds are ignored. */
export const sortObjects = (objects: ReadonlyArray<ManifestObject>): Sorted => {
  const ingresses: Array<IngressView> = []
  const services: Array<ServiceView> = []
  const ingressClasses: Array<IngressClassView> = []
  const gateways: Array<GatewayView> = []
  const httpRoutes: Array<HTTPRouteView> = []
  const skipped: Array<Skipped> = []
  const warnings: Array<string> = []
  let kubeSystemUid: string | undefined
  const accept = <A>(decoded: Either.Either<A, string>, into: Array<A>, { source, object }: ManifestObject) =>
    Either.match(decoded, {
      onRight: (view) => into.push(view),
      onLeft: (reason) => warnings.push(`${source}: ${kindOf(object)} ${nameOf(object)} skipped: ${reason}`)
    })
  for (const entry of objects) {
    const { object } = entry
    switch (kindOf(object)) {
      case "networking.k8s.io/v1 Ingress":
        // An Ingress that does not decode is reported in `skipped`, like every other unrouted one.
        Either.match(decodeIngress(object), {
          onRight: (view) => ingresses.push(view),
          onLeft: (detail) => skipped.push({ ingress: nameOf(object), reason: "invalid_object", detail })
        })
        break
      case "v1 Service":
        accept(decodeService(object), services, entry)
        break
      case "networking.k8s.io/v1 IngressClass":
        accept(decodeIngressClass(object), ingressClasses, entry)
        break
      case "gateway.networking.k8s.io/v1 Gateway":
        accept(decodeGateway(object), gateways, entry)
        break
      case "gateway.networking.k8s.io/v1 HTTPRoute":
        Either.match(decodeHTTPRoute(object), {
          onRight: (view) => httpRoutes.push(view),
          onLeft: (detail) => skipped.push({ ingress: `httproute/${nameOf(object)}`, reason: "invalid_object", detail })
        })
        break
      case "v1 Namespace":
        if (metaField(object, "name") === "kube-system") kubeSystemUid = metaField(object, "uid") ?? kubeSystemUid
        break
    }
  }
  return { ingresses, services, ingressClasses, gateways, httpRoutes, skipped, warnings, kubeSystemUid }
}

/** The plan document for sorted manifests; fails when `direct` is forced without an endpoint. */
export const makePlan = (sorted: Sorted, options: PlanOptions): Either.Either<PlanDocument, DirectWithoutEndpoint> =>
  Either.map(decideRouting(sorted.services, options.overrides, sorted.gateways), (decision) => {
    const extracted = desiredRoutes(sorted, options.selection)
    const cluster = { clusterUuid: options.clusterUuid ?? sorted.kubeSystemUid ?? "", decision }
    return {
      detection: {
        is_private: decision.isPrivate,
        routing_mode: decision.routingMode,
        public_endpoint: decision.publicEndpoint
      },
      sync: Schema.encodeSync(SyncIngressesRequest)(syncRequest(extracted.routes, cluster)),
      routes: extracted.routes.map((route) => Schema.encodeSync(RegisterRouteRequest)(registerRequest(route, cluster))),
      skipped: [...sorted.skipped, ...extracted.skipped]
    }
  })
