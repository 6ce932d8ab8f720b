/**
 * Builders for Gateway API objects (raw JSON and decoded views): a Gateway with listeners and
 * addresses, an HTTPRoute with parents, hostnames, rules and the parents that accepted it.
 */
import { Either } from "effect"
import { decodeGateway, decodeHTTPRoute, type GatewayView, type HTTPRouteView } from "../../src/domain/GatewayViews.js"

type Json = Record<string, unknown>

export interface GatewayInput {
  readonly name?: string
  readonly namespace?: string
  readonly className?: string
  /** `[name, protocol, port, hostname?]`; default one HTTP listener on 80 without hostname. */
  readonly listeners?: ReadonlyArray<readonly [string, string, number, string?]>
  /** `value` or `[type, value]`. */
  readonly addresses?: ReadonlyArray<string | readonly [string, string]>
  readonly createdAt?: string
}

export const gateway = (input: GatewayInput = {}): Json => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "Gateway",
  metadata: { name: input.name ?? "eg", namespace: input.namespace ?? "gateway-system", creationTimestamp: input.createdAt ?? "2026-01-01T00:00:00Z" },
  spec: {
    gatewayClassName: input.className ?? "eg",
    listeners: (input.listeners ?? [["http", "HTTP", 80]]).map(([name, protocol, port, hostname]) => ({ name, protocol, port, ...(hostname === undefined ? {} : { hostname }) }))
  },
  status: { addresses: (input.addresses ?? []).map((a) => (typeof a === "string" ? { type: "IPAddress", value: a } : { type: a[0], value: a[1] })) }
})

/** A parent reference: `name` or `namespace/name`, optionally `#section`. */
const parentRef = (ref: string): Json => {
  const [path = "", section] = ref.split("#")
  const [first = "", second] = path.split("/")
  return { name: second ?? first, ...(second === undefined ? {} : { namespace: first }), ...(section === undefined ? {} : { sectionName: section }) }
}

export interface HTTPRouteInput {
  readonly name?: string
  readonly namespace?: string
  /** Parent Gateways, `namespace/name[#section]`; default the builder's Gateway. */
  readonly parents?: ReadonlyArray<string>
  /** Which parents accepted it; default all of them. */
  readonly accepted?: ReadonlyArray<string>
  readonly hostnames?: ReadonlyArray<string>
  readonly rules?: ReadonlyArray<Json>
  readonly annotations?: Record<string, string>
  readonly labels?: Record<string, string>
  readonly createdAt?: string
}

/** A rule: path matches (`[type, value]`) and backends (`[name, port, weight?, kind?]`). */
export const httpRule = (matches: ReadonlyArray<readonly [string, string]>, ...backends: ReadonlyArray<readonly [string, number | undefined, number?, string?]>): Json => ({
  ...(matches.length === 0 ? {} : { matches: matches.map(([type, value]) => ({ path: { type, value } })) }),
  backendRefs: backends.map(([name, port, weight, kind]) => ({
    name, ...(port === undefined ? {} : { port }), ...(weight === undefined ? {} : { weight }), ...(kind === undefined ? {} : { kind, group: "example.com" })
  }))
})

export const httpRoute = (input: HTTPRouteInput = {}): Json => {
  const parents = input.parents ?? ["gateway-system/eg"]
  const accepted = input.accepted ?? parents
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: {
      name: input.name ?? "web", namespace: input.namespace ?? "default", creationTimestamp: input.createdAt ?? "2026-01-02T00:00:00Z",
      ...(input.annotations === undefined ? {} : { annotations: input.annotations }), ...(input.labels === undefined ? {} : { labels: input.labels })
    },
    spec: {
      parentRefs: parents.map(parentRef),
      ...(input.hostnames === undefined ? {} : { hostnames: input.hostnames }),
      rules: input.rules ?? [httpRule([["PathPrefix", "/"]], ["web", 80])]
    },
    status: {
      parents: parents.map((p) => ({
        parentRef: parentRef(p), controllerName: "example.com/gateway",
        conditions: [{ type: "Accepted", status: accepted.includes(p) ? "True" : "False", reason: accepted.includes(p) ? "Accepted" : "NotAllowedByListeners" }]
      }))
    }
  }
}

const decoded = <A>(result: Either.Either<A, string>): A =>
  Either.getOrThrowWith(result, (reason) => new Error(`builder produced an invalid object: ${reason}`))

export const gatewayView = (input: GatewayInput = {}): GatewayView => decoded(decodeGateway(gateway(input)))
export const httpRouteView = (input: HTTPRouteInput = {}): HTTPRouteView => decoded(decodeHTTPRoute(httpRoute(input)))
