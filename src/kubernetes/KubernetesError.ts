/**
 * Failures talking to the Kubernetes API server, with what the caller needs to react: the HTTP
 * status (or the code of an in-stream ERROR), a reason, whether retrying may help, and the
 * server's `Retry-After`.
 */
import { Schema } from "effect"

/** What went wrong, in the terms the reflector acts on. */
export const FailureKind = Schema.Literal(
  "Unauthorized", // 401: credentials missing or refused
  "Forbidden", // 403: RBAC denies the verb
  "NotServed", // 404: the resource is not served by this cluster
  "Expired", // 410: the resourceVersion or continue token is too old
  "Conflict", // 409: a write carried a stale resourceVersion, or created what exists
  "TooManyRequests", // 429
  "ServerError", // 5xx, or an in-stream ERROR other than 410
  "Network", // connection refused or reset, DNS, TLS, an aborted body
  "BadResponse", // an unparseable body or watch line
  "Rejected" // any other 4xx
)
export type FailureKind = typeof FailureKind.Type

/** A list, get or watch failed. */
export class KubernetesApiError extends Schema.TaggedError<KubernetesApiError>()("KubernetesApiError", {
  kind: FailureKind,
  /** `list`, `watch` or `get`, with the resource: `watch ingresses`. */
  operation: Schema.String,
  status: Schema.optional(Schema.Int),
  message: Schema.String,
  retryAfterMillis: Schema.optional(Schema.Number)
}) {
  /** Whether retrying the same request may succeed (every kind but `Rejected` eventually may). */
  get retryable(): boolean {
    return this.kind !== "Rejected"
  }
}

/** The failure kind of an HTTP status (or an in-stream ERROR's `code`). */
export const kindOfStatus = (status: number): FailureKind => {
  if (status === 401) return "Unauthorized"
  if (status === 403) return "Forbidden"
  if (status === 404) return "NotServed"
  if (status === 409) return "Conflict"
  if (status === 410) return "Expired"
  if (status === 429) return "TooManyRequests"
  if (status >= 500) return "ServerError"
  return "Rejected"
}
