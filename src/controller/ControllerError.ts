/**
 * Failures of controller calls, grouped by what the caller should do: retry
 * (`ControllerUnavailable`), give up and report (`ControllerRejected`, `RouteConflict`), or pause
 * until the credentials change (`ControllerUnauthorized`, `TokenUnavailable`).
 */
import { Schema } from "effect"

/** The controller operations, as used in logs and metrics. */
export const Operation = Schema.Literal("register", "sync", "unregister", "heartbeat", "health")
export type Operation = typeof Operation.Type

/**
 * Transient: a timeout, a connection error, 408, 429 or 5xx. Retried with backoff;
 * `retryAfterMillis` is the server's `Retry-After`, when it sent one.
 */
export class ControllerUnavailable extends Schema.TaggedError<ControllerUnavailable>()("ControllerUnavailable", {
  operation: Operation,
  status: Schema.optional(Schema.Int),
  reason: Schema.String,
  retryAfterMillis: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return `controller ${this.operation} unavailable: ${this.reason}`
  }
}

/** Terminal: the controller refused the request (a 4xx other than 401, 403, 408, 409, 429). */
export class ControllerRejected extends Schema.TaggedError<ControllerRejected>()("ControllerRejected", {
  operation: Operation,
  status: Schema.Int,
  body: Schema.String
}) {
  override get message(): string {
    return `controller rejected ${this.operation} with ${this.status}: ${this.body}`
  }
}

/** The token was refused (401) or may not do this (403): nothing succeeds until it changes. */
export class ControllerUnauthorized extends Schema.TaggedError<ControllerUnauthorized>()("ControllerUnauthorized", {
  operation: Operation,
  status: Schema.Int,
  body: Schema.String
}) {
  override get message(): string {
    return `controller refused the token for ${this.operation} (${this.status}): ${this.body}`
  }
}

/** 409: another cluster owns the hostname. Reported, not retried. */
export class RouteConflict extends Schema.TaggedError<RouteConflict>()("RouteConflict", {
  operation: Operation,
  hostname: Schema.String,
  body: Schema.String
}) {
  override get message(): string {
    return `hostname ${this.hostname} is owned by another cluster`
  }
}

/** The token file could not be read; the request was not sent. */
export class TokenUnavailable extends Schema.TaggedError<TokenUnavailable>()("TokenUnavailable", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `token file ${this.path} unreadable: ${this.reason}`
  }
}

/** Every failure of a controller call. */
export type ControllerError = ControllerUnavailable | ControllerRejected | ControllerUnauthorized | RouteConflict | TokenUnavailable

/** Whether retrying the same call soon may succeed. */
export const isRetryable = (error: ControllerError): error is ControllerUnavailable => error._tag === "ControllerUnavailable"

/** Whether the failure is about credentials: sending should pause until the token changes. */
export const isAuthFailure = (error: ControllerError): boolean =>
  error._tag === "ControllerUnauthorized" || error._tag === "TokenUnavailable"
