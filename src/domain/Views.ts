/**
 * Narrow views of the Kubernetes objects the agent reads: only the fields route extraction and
 * cluster detection use. Decoding doubles as validation: an object that does not decode is
 * reported and skipped by the caller, never thrown. Unknown fields are ignored.
 */
import { Either, ParseResult, Schema } from "effect"

const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

/** The metadata fields we read. `namespace` is absent on cluster-scoped objects. */
export const ObjectMetaView = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optional(Schema.String),
  uid: Schema.optional(Schema.String),
  resourceVersion: Schema.optional(Schema.String),
  creationTimestamp: Schema.optional(Schema.String),
  labels: Schema.optional(StringMap),
  annotations: Schema.optional(StringMap)
})
export type ObjectMetaView = typeof ObjectMetaView.Type

/** `networking.k8s.io/v1` IngressBackend: exactly one of `service` or `resource` is set. */
export const IngressBackendView = Schema.Struct({
  service: Schema.optional(Schema.Struct({
    name: Schema.String,
    port: Schema.optional(Schema.Struct({
      number: Schema.optional(Schema.Int),
      name: Schema.optional(Schema.String)
    }))
  })),
  resource: Schema.optional(Schema.Struct({
    apiGroup: Schema.optional(Schema.String),
    kind: Schema.String,
    name: Schema.String
  }))
})
export type IngressBackendView = typeof IngressBackendView.Type

/** One `spec.rules[].http.paths[]` entry; `path` and `pathType` may be absent on old objects. */
export const IngressPathView = Schema.Struct({
  path: Schema.optional(Schema.String),
  pathType: Schema.optional(Schema.String),
  backend: IngressBackendView
})
export type IngressPathView = typeof IngressPathView.Type

/** One `spec.rules[]` entry. */
export const IngressRuleView = Schema.Struct({
  host: Schema.optional(Schema.String),
  http: Schema.optional(Schema.Struct({ paths: Schema.Array(IngressPathView) }))
})
export type IngressRuleView = typeof IngressRuleView.Type

/** One `spec.tls[]` entry; no `hosts` means every host of the Ingress. */
export const IngressTlsView = Schema.Struct({
  hosts: Schema.optional(Schema.Array(Schema.String))
})
export type IngressTlsView = typeof IngressTlsView.Type

/** The fields of a `networking.k8s.io/v1` Ingress that route extraction reads. */
export const IngressView = Schema.Struct({
  metadata: ObjectMetaView,
  spec: Schema.optionalWith(Schema.Struct({
    ingressClassName: Schema.optional(Schema.String),
    defaultBackend: Schema.optional(IngressBackendView),
    tls: Schema.optional(Schema.Array(IngressTlsView)),
    rules: Schema.optional(Schema.Array(IngressRuleView))
  }), { default: () => ({}) })
})
export type IngressView = typeof IngressView.Type

/** One `spec.ports[]` entry of a Service; `protocol` defaults to TCP. */
export const ServicePortView = Schema.Struct({
  name: Schema.optional(Schema.String),
  protocol: Schema.optional(Schema.String),
  port: Schema.Int
})
export type ServicePortView = typeof ServicePortView.Type

/** One `status.loadBalancer.ingress[]` entry: an IP, a hostname, or both. */
export const LoadBalancerIngressView = Schema.Struct({
  ip: Schema.optional(Schema.String),
  hostname: Schema.optional(Schema.String)
})
export type LoadBalancerIngressView = typeof LoadBalancerIngressView.Type

/** The fields of a `v1` Service that port resolution and cluster detection read. */
export const ServiceView = Schema.Struct({
  metadata: ObjectMetaView,
  spec: Schema.optionalWith(Schema.Struct({
    type: Schema.optional(Schema.String),
    ports: Schema.optional(Schema.Array(ServicePortView))
  }), { default: () => ({}) }),
  status: Schema.optional(Schema.Struct({
    loadBalancer: Schema.optional(Schema.Struct({
      ingress: Schema.optional(Schema.Array(LoadBalancerIngressView))
    }))
  }))
})
export type ServiceView = typeof ServiceView.Type

/** The fields of a `networking.k8s.io/v1` IngressClass: its name and default-class annotation. */
export const IngressClassView = Schema.Struct({
  metadata: ObjectMetaView,
  spec: Schema.optional(Schema.Struct({ controller: Schema.optional(Schema.String) }))
})
export type IngressClassView = typeof IngressClassView.Type

/** Why a raw object was not accepted as a view: a one-line, human-readable message. */
export type DecodeFailure = string

export const decoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "first" })
  return (raw: unknown): Either.Either<A, DecodeFailure> =>
    Either.mapLeft(decode(raw), (error) => ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s+/g, " "))
}

/** Decodes an Ingress; `Left` carries a one-line reason. */
export const decodeIngress = decoder(IngressView)
/** Decodes a Service; `Left` carries a one-line reason. */
export const decodeService = decoder(ServiceView)
/** Decodes an IngressClass; `Left` carries a one-line reason. */
export const decodeIngressClass = decoder(IngressClassView)

/** `namespace/name`, the key of a namespaced object (`default` when the namespace is absent). */
export const objectKey = (meta: ObjectMetaView): string => `${meta.namespace ?? "default"}/${meta.name}`
