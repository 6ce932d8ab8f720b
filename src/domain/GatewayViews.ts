/**
 * Narrow views of the `gateway.networking.k8s.io/v1` objects the agent reads: a Gateway's class,
 * listeners and addresses, an HTTPRoute's parents, hostnames, path matches, backends and which
 * parents accepted it. Decoding is validation, as for the Ingress views.
 */
import { Schema } from "effect"
import { decoder, ObjectMetaView } from "./Views.js"

/** One `spec.listeners[]` entry. */
export const ListenerView = Schema.Struct({
  name: Schema.String,
  hostname: Schema.optional(Schema.String),
  port: Schema.Int,
  protocol: Schema.String
})
export type ListenerView = typeof ListenerView.Type

/** One `status.addresses[]` entry; `type` defaults to `IPAddress`. */
export const GatewayAddressView = Schema.Struct({
  type: Schema.optional(Schema.String),
  value: Schema.String
})
export type GatewayAddressView = typeof GatewayAddressView.Type

export const GatewayView = Schema.Struct({
  metadata: ObjectMetaView,
  spec: Schema.Struct({
    gatewayClassName: Schema.String,
    listeners: Schema.optionalWith(Schema.Array(ListenerView), { default: () => [] })
  }),
  status: Schema.optional(Schema.Struct({ addresses: Schema.optional(Schema.Array(GatewayAddressView)) }))
})
export type GatewayView = typeof GatewayView.Type

/** A `spec.parentRefs[]` entry, or the `parentRef` of a status entry. */
export const ParentRefView = Schema.Struct({
  group: Schema.optional(Schema.String),
  kind: Schema.optional(Schema.String),
  namespace: Schema.optional(Schema.String),
  name: Schema.String,
  sectionName: Schema.optional(Schema.String)
})
export type ParentRefView = typeof ParentRefView.Type

export const BackendRefView = Schema.Struct({
  group: Schema.optional(Schema.String),
  kind: Schema.optional(Schema.String),
  name: Schema.String,
  namespace: Schema.optional(Schema.String),
  port: Schema.optional(Schema.Int),
  weight: Schema.optional(Schema.Int)
})
export type BackendRefView = typeof BackendRefView.Type

export const RouteMatchView = Schema.Struct({
  path: Schema.optional(Schema.Struct({ type: Schema.optional(Schema.String), value: Schema.optional(Schema.String) }))
})
export type RouteMatchView = typeof RouteMatchView.Type

export const RouteRuleView = Schema.Struct({
  matches: Schema.optional(Schema.Array(RouteMatchView)),
  backendRefs: Schema.optional(Schema.Array(BackendRefView))
})
export type RouteRuleView = typeof RouteRuleView.Type

export const RouteConditionView = Schema.Struct({ type: Schema.String, status: Schema.String })

export const HTTPRouteView = Schema.Struct({
  metadata: ObjectMetaView,
  spec: Schema.optionalWith(Schema.Struct({
    parentRefs: Schema.optional(Schema.Array(ParentRefView)),
    hostnames: Schema.optional(Schema.Array(Schema.String)),
    rules: Schema.optional(Schema.Array(RouteRuleView))
  }), { default: () => ({}) }),
  status: Schema.optional(Schema.Struct({
    parents: Schema.optional(Schema.Array(Schema.Struct({
      parentRef: ParentRefView,
      conditions: Schema.optional(Schema.Array(RouteConditionView))
    })))
  }))
})
export type HTTPRouteView = typeof HTTPRouteView.Type

/** Decodes a Gateway; `Left` carries a one-line reason. */
export const decodeGateway = decoder(GatewayView)
/** Decodes an HTTPRoute; `Left` carries a one-line reason. */
export const decodeHTTPRoute = decoder(HTTPRouteView)
