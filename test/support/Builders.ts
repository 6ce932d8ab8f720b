/**
 * Builders for Kubernetes objects in their raw JSON shape, and their decoded views.
 */
import { Either } from "effect"
import { Route } from "../../src/domain/Route.js"
import {
  decodeIngress, decodeIngressClass, decodeService,
  type IngressClassView, type IngressView, type ServiceView
} from "../../src/domain/Views.js"

type Json = Record<string, unknown>

/** A backend to a Service port given by number or by name. */
export const backend = (service: string, port: number | string): Json => ({
  service: { name: service, port: typeof port === "number" ? { number: port } : { name: port } }
})

/** One `http.paths[]` entry; `undefined` path or `null` pathType leaves the field out. */
export const path = (
  value: string | undefined,
  to: Json = backend("web", 80),
  pathType: string | null = "Prefix"
): Json => ({
  ...(value === undefined ? {} : { path: value }),
  ...(pathType === null ? {} : { pathType }),
  backend: to
})

/** A rule; without paths it has no `http` at all. */
export const rule = (host: string | undefined, ...paths: ReadonlyArray<Json>): Json => ({
  ...(host === undefined ? {} : { host }),
  ...(paths.length === 0 ? {} : { http: { paths } })
})

export interface IngressInput {
  readonly name?: string
  readonly namespace?: string
  /** Shorthand for one rule with `/` (Prefix) to `web:80`. */
  readonly host?: string
  readonly rules?: ReadonlyArray<Json>
  readonly className?: string
  readonly annotations?: Record<string, string>
  readonly labels?: Record<string, string>
  readonly tls?: ReadonlyArray<{ readonly hosts?: ReadonlyArray<string> }>
  readonly defaultBackend?: Json
  readonly createdAt?: string
}

/** A raw `networking.k8s.io/v1` Ingress. */
export const ingress = (input: IngressInput = {}): Json => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: {
    name: input.name ?? "web",
    namespace: input.namespace ?? "default",
    ...(input.createdAt === undefined ? {} : { creationTimestamp: input.createdAt }),
    ...(input.annotations === undefined ? {} : { annotations: input.annotations }),
    ...(input.labels === undefined ? {} : { labels: input.labels })
  },
  spec: {
    ...(input.className === undefined ? {} : { ingressClassName: input.className }),
    ...(input.defaultBackend === undefined ? {} : { defaultBackend: input.defaultBackend }),
    ...(input.tls === undefined ? {} : { tls: input.tls }),
    rules: input.rules ?? (input.host === undefined ? [] : [rule(input.host, path("/"))])
  }
})

export interface ServiceInput {
  readonly name?: string
  readonly namespace?: string
  readonly type?: string
  readonly labels?: Record<string, string>
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly port: number; readonly protocol?: string }>
  /** `status.loadBalancer.ingress` entries. */
  readonly lb?: ReadonlyArray<{ readonly ip?: string; readonly hostname?: string }>
}

/** A raw `v1` Service; a LoadBalancer by default, with port 80 named `http`. */
export const service = (input: ServiceInput = {}): Json => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: input.name ?? "ingress-nginx-controller",
    namespace: input.namespace ?? "ingress-nginx",
    ...(input.labels === undefined ? {} : { labels: input.labels })
  },
  spec: { type: input.type ?? "LoadBalancer", ports: input.ports ?? [{ name: "http", port: 80 }] },
  status: { loadBalancer: input.lb === undefined ? {} : { ingress: input.lb } }
})

/** A raw IngressClass, optionally the default class. */
export const ingressClass = (name: string, isDefault = false): Json => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "IngressClass",
  metadata: {
    name,
    ...(isDefault ? { annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } } : {})
  },
  spec: { controller: "example.com/controller" }
})

const decoded = <A>(result: Either.Either<A, string>): A =>
  Either.getOrThrowWith(result, (reason) => new Error(`builder produced an invalid object: ${reason}`))

/** The decoded view of `ingress(input)`. */
export const ingressView = (input: IngressInput = {}): IngressView => decoded(decodeIngress(ingress(input)))
/** The decoded view of `service(input)`. */
export const serviceView = (input: ServiceInput = {}): ServiceView => decoded(decodeService(service(input)))
/** The decoded view of `ingressClass(name, isDefault)`. */
export const ingressClassView = (name: string, isDefault = false): IngressClassView =>
  decoded(decodeIngressClass(ingressClass(name, isDefault)))

/** A domain route: `/` (Prefix) of `default/web` to `web:80` unless overridden. */
export const route = (hostname: string, path = "/", overrides: Partial<ConstructorParameters<typeof Route>[0]> = {}): Route =>
  new Route({
    hostname, path, pathType: "Prefix", namespace: "default", ingressName: "web", serviceName: "web",
    servicePort: 80, tls: false, annotations: {}, ...overrides
  })
