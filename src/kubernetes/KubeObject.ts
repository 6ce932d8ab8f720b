/**
 * Raw Kubernetes objects as they come off the wire, with just enough validated to key and version
 * them, and the watch-line format.
 */
import { Either, Option, Schema } from "effect"
import { apiVersionOf, type Resource } from "./Resources.js"

/** Metadata every object must carry to be cached. */
const KeyedMeta = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optional(Schema.String),
  resourceVersion: Schema.optional(Schema.String)
})

/** Any object: a JSON object whose metadata has at least a name. */
export interface KubeObject {
  readonly metadata: typeof KeyedMeta.Type
  readonly [field: string]: unknown
}

// Checked, not decoded: decoding would drop every field the schema does not name.
const isKeyed = Schema.is(Schema.Struct({ metadata: KeyedMeta }))

/**
 * The object in one internal shape: the raw JSON, every field kept, with `kind` and
 * `apiVersion` filled in from the resource; `None` when it has no `metadata.name` (such objects
 * are skipped).
 */
export const normalize = (resource: Resource, raw: unknown): Option.Option<KubeObject> =>
  isKeyed(raw) ? Option.some({ ...raw, kind: resource.kind, apiVersion: apiVersionOf(resource) }) : Option.none()

/** The cache key: `namespace/name`, or `name` for cluster-scoped objects. */
export const keyOf = (object: KubeObject): string =>
  object.metadata.namespace === undefined ? object.metadata.name : `${object.metadata.namespace}/${object.metadata.name}`

/** An in-stream `ERROR` event's Status. */
export interface WatchStatus {
  readonly code: number
  readonly reason: string
  readonly message: string
}

/** One watch line, decoded. `object` is raw; the reflector normalises it. */
export type WatchEvent =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; readonly object: unknown }
  | { readonly type: "ERROR"; readonly status: WatchStatus }
  | { readonly type: "UNKNOWN"; readonly name: string }

const Line = Schema.parseJson(Schema.Struct({ type: Schema.String, object: Schema.optional(Schema.Unknown) }))
const decodeLine = Schema.decodeUnknownEither(Line)
const StatusObject = Schema.Struct({
  code: Schema.optionalWith(Schema.Number, { default: () => 500 }),
  reason: Schema.optionalWith(Schema.String, { default: () => "" }),
  message: Schema.optionalWith(Schema.String, { default: () => "" })
})
const decodeStatus = Schema.decodeUnknownOption(StatusObject)

/**
 * Decodes one line of a watch body. A line that is not JSON or has no `type` is `Left`: a stream
 * failure, never silently dropped.
 */
export const parseWatchLine = (line: string): Either.Either<WatchEvent, string> =>
  Either.map(Either.mapLeft(decodeLine(line), () => `unparseable watch line: ${line.slice(0, 200)}`), ({ type, object }): WatchEvent => {
    switch (type) {
      case "ADDED":
      case "MODIFIED":
      case "DELETED":
      case "BOOKMARK":
        return { type, object }
      case "ERROR":
        return { type, status: Option.getOrElse(decodeStatus(object), () => ({ code: 500, reason: "", message: "malformed ERROR event" })) }
      default:
        return { type: "UNKNOWN", name: type }
    }
  })
