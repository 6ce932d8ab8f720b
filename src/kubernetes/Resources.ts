/**
 * The Kubernetes resources the agent lists and watches, and their API paths.
 */

/** A listable, watchable resource type. */
export interface Resource {
  /** The plural name in API paths, and the name used in logs and metrics. */
  readonly plural: string
  /** `""` for the core group. */
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly namespaced: boolean
}

/** `networking.k8s.io/v1` Ingresses. */
export const ingresses: Resource = { plural: "ingresses", group: "networking.k8s.io", version: "v1", kind: "Ingress", namespaced: true }
/** `v1` Services. */
export const services: Resource = { plural: "services", group: "", version: "v1", kind: "Service", namespaced: true }
/** `networking.k8s.io/v1` IngressClasses. */
export const ingressClasses: Resource = {
  plural: "ingressclasses", group: "networking.k8s.io", version: "v1", kind: "IngressClass", namespaced: false
}

/** The Gateway API's group and version; its resources are watched only while the cluster serves it. */
export const gatewayApi = "gateway.networking.k8s.io/v1"
/** `gateway.networking.k8s.io/v1` Gateways. */
export const gateways: Resource = { plural: "gateways", group: "gateway.networking.k8s.io", version: "v1", kind: "Gateway", namespaced: true }
/** `gateway.networking.k8s.io/v1` HTTPRoutes. */
export const httpRoutes: Resource = { plural: "httproutes", group: "gateway.networking.k8s.io", version: "v1", kind: "HTTPRoute", namespaced: true }

/** Every resource the agent lists and watches; the RBAC in deploy/ grants exactly list and watch on these. */
export const watchedResources: ReadonlyArray<Resource> = [ingresses, services, ingressClasses, gateways, httpRoutes]

/** `apiVersion` of the resource's objects: `group/version`, or `version` for the core group. */
export const apiVersionOf = (resource: Resource): string =>
  resource.group === "" ? resource.version : `${resource.group}/${resource.version}`

/**
 * The collection path, cluster-wide or in one namespace:
 * `/apis/networking.k8s.io/v1/namespaces/x/ingresses`, `/api/v1/services`.
 */
export const collectionPath = (resource: Resource, namespace?: string): string => {
  const root = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`
  return namespace !== undefined && resource.namespaced
    ? `${root}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`
    : `${root}/${resource.plural}`
}
