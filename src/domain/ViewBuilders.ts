/**
 * The hot path of decoding: Ingresses and Services arrive by the thousand at start-up, and the
 * schemas of `Views` cost about 10 µs per object there (a parse tree per field, a merge of
 * defaults, a copy per level). These builders make the same narrow view straight from a
 * well-formed object — only the fields the views have, defaults applied — and give up
 * (`undefined`) at the first field of the wrong shape; the schema then decodes it and says
 * what is wrong. A property test keeps the two in agreement.
 */
import type { IngressBackendView, IngressPathView, IngressRuleView, IngressView, ObjectMetaView, ServicePortView, ServiceView } from "./Views.js"

type Json = Readonly<Record<string, unknown>>

/** Gave up: the schema explains why. */
class Malformed extends Error {}
const malformed = new Malformed()

const record = (value: unknown): Json => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed
  return value as Json
}
const string = (value: unknown): string => {
  if (typeof value !== "string") throw malformed
  return value
}
const int = (value: unknown): number => {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw malformed
  return value
}
const array = (value: unknown): ReadonlyArray<unknown> => {
  if (!Array.isArray(value)) throw malformed
  return value
}
const stringMap = (value: unknown): Readonly<Record<string, string>> => {
  const map = record(value)
  const out: Record<string, string> = {}
  for (const key of Object.keys(map)) out[key] = string(map[key])
  return out
}

/** The listed optional fields of `from` that are present, each through `build`. */
const optional = <A>(from: Json, keys: ReadonlyArray<string>, build: (value: unknown) => A): Record<string, A> => {
  const out: Record<string, A> = {}
  for (const key of keys) if (from[key] !== undefined) out[key] = build(from[key])
  return out
}

const metadata = (value: unknown): ObjectMetaView => {
  const meta = record(value)
  return {
    name: string(meta["name"]),
    ...optional(meta, ["namespace", "uid", "resourceVersion", "creationTimestamp"], string),
    ...optional(meta, ["labels", "annotations"], stringMap)
  }
}

const backend = (value: unknown): IngressBackendView => {
  const raw = record(value)
  const out: { service?: IngressBackendView["service"]; resource?: IngressBackendView["resource"] } = {}
  if (raw["service"] !== undefined) {
    const service = record(raw["service"])
    out.service = {
      name: string(service["name"]),
      ...(service["port"] === undefined ? {} : { port: { ...optional(record(service["port"]), ["number"], int), ...optional(record(service["port"]), ["name"], string) } })
    }
  }
  if (raw["resource"] !== undefined) {
    const resource = record(raw["resource"])
    out.resource = { kind: string(resource["kind"]), name: string(resource["name"]), ...optional(resource, ["apiGroup"], string) }
  }
  return out
}

const path = (value: unknown): IngressPathView => {
  const raw = record(value)
  return { ...optional(raw, ["path", "pathType"], string), backend: backend(raw["backend"]) }
}

const rule = (value: unknown): IngressRuleView => {
  const raw = record(value)
  return {
    ...optional(raw, ["host"], string),
    ...optional(raw, ["http"], (http) => ({ paths: array(record(http)["paths"]).map(path) }))
  }
}

const tls = (value: unknown) => optional(record(value), ["hosts"], (hosts) => array(hosts).map(string))

/** Runs a builder; `undefined` when the object is not of the expected shape. */
const attempt = <A>(build: () => A): A | undefined => {
  try {
    return build()
  } catch (error) {
    if (error === malformed) return undefined
    throw error
  }
}

/** An Ingress's view, or `undefined` when a field is not of the expected shape. */
export const buildIngressView = (raw: unknown): IngressView | undefined => attempt(() => {
  const object = record(raw)
  const spec = object["spec"] === undefined ? {} : record(object["spec"])
  return {
    metadata: metadata(object["metadata"]),
    spec: {
      ...optional(spec, ["ingressClassName"], string),
      ...optional(spec, ["defaultBackend"], backend),
      ...optional(spec, ["tls"], (entries) => array(entries).map(tls)),
      ...optional(spec, ["rules"], (rules) => array(rules).map(rule))
    }
  }
})

const port = (value: unknown): ServicePortView => {
  const raw = record(value)
  return { ...optional(raw, ["name", "protocol"], string), port: int(raw["port"]) }
}

const loadBalancer = (value: unknown) => optional(record(value), ["ingress"], (entries) =>
  array(entries).map((entry) => optional(record(entry), ["ip", "hostname"], string)))

/** A Service's view, or `undefined` when a field is not of the expected shape. */
export const buildServiceView = (raw: unknown): ServiceView | undefined => attempt(() => {
  const object = record(raw)
  const spec = object["spec"] === undefined ? {} : record(object["spec"])
  return {
    metadata: metadata(object["metadata"]),
    spec: { ...optional(spec, ["type"], string), ...optional(spec, ["ports"], (ports) => array(ports).map(port)) },
    ...optional(object, ["status"], (status) => optional(record(status), ["loadBalancer"], loadBalancer))
  }
})
