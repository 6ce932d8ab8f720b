/**
 * The agent's side of the controller REST API (DESIGN §2): register, sync and unregister routes,
 * and check the controller's health.
 */
import { HttpClient, HttpClientRequest, type HttpClientError } from "@effect/platform"
import { Clock, Context, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import {
  ControllerRejected, ControllerUnauthorized, ControllerUnavailable, RouteConflict,
  type ControllerError, type Operation
} from "./ControllerError.js"
import { parseRetryAfter } from "../domain/RetryAfter.js"
import { controllerRetry, type RetryPolicy } from "./ControllerRetry.js"
import { Token } from "./Token.js"
import {
  RegisterRouteRequest, SyncIngressesRequest, SyncIngressesResponse, UnregisterRouteRequest
} from "./Wire.js"

/** Where and how the client talks to the controller. */
export interface ControllerSettings {
  /** The controller's base URL; the API paths are appended to it. */
  readonly apiUrl: URL
  /** Per request, including reading the response. */
  readonly timeout: Duration.Duration
  readonly retry: RetryPolicy
}

/** The controller's route registry, as the agent uses it. */
export class ControllerClient extends Context.Tag("pipeops-agent/controller/ControllerClient")<ControllerClient, {
  /** Upserts one (hostname, path) route. Idempotent; retried on transient failures. */
  readonly registerRoute: (request: RegisterRouteRequest) => Effect.Effect<void, ControllerError>
  /**
   * Replaces the cluster's whole route set (authoritative; send it empty to clear). Succeeds
   * with the hostnames the controller refused because another cluster owns them.
   */
  readonly syncIngresses: (request: SyncIngressesRequest) => Effect.Effect<SyncIngressesResponse, ControllerError>
  /** Removes every route of a hostname. Idempotent; retried on transient failures. */
  readonly unregisterRoute: (request: UnregisterRouteRequest) => Effect.Effect<void, ControllerError>
  /** `GET /health`, once, no retries. */
  readonly healthCheck: Effect.Effect<void, ControllerError>
}>() {
  /** Sends real requests over an `HttpClient`, authenticated with the current `Token`. */
  static readonly layer = (settings: ControllerSettings): Layer.Layer<ControllerClient, never, HttpClient.HttpClient | Token> =>
    Layer.effect(ControllerClient, makeLive(settings))

  /** Sends nothing: logs each request it would send and reports success. */
  static readonly layerDryRun: Layer.Layer<ControllerClient> = Layer.succeed(ControllerClient, ControllerClient.of({
    registerRoute: (request) => logDryRun("register", Schema.encodeSync(RegisterRouteRequest)(request)),
    syncIngresses: (request) =>
      logDryRun("sync", Schema.encodeSync(SyncIngressesRequest)(request)).pipe(Effect.as({ conflicts: [] })),
    unregisterRoute: (request) => logDryRun("unregister", Schema.encodeSync(UnregisterRouteRequest)(request)),
    healthCheck: Effect.void
  }))
}

const logDryRun = (operation: Operation, body: unknown) =>
  Effect.logInfo("dry run: request not sent").pipe(Effect.annotateLogs({ operation, body }))

/** API paths below the base URL. */
export const paths = {
  register: "/api/v1/gateway/routes/register",
  sync: "/api/v1/gateway/routes/sync",
  unregister: "/api/v1/gateway/routes/unregister",
  health: "/health"
} as const satisfies Record<Operation, string>

const maxErrorBody = 1000

/** A completed exchange: the status, the `Retry-After` header, the body text. */
interface Reply {
  readonly status: number
  readonly retryAfter: string | undefined
  readonly body: string
}

/** Maps a non-2xx reply to the error the caller should act on (DESIGN §2). */
export const classify = (operation: Operation, reply: Reply, nowMillis: number, hostname?: string): ControllerError => {
  const { status } = reply
  const body = reply.body.slice(0, maxErrorBody)
  if (status === 401 || status === 403) return new ControllerUnauthorized({ operation, status, body })
  if (status === 409 && hostname !== undefined) return new RouteConflict({ operation, hostname, body })
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMillis = Option.getOrUndefined(parseRetryAfter(reply.retryAfter, nowMillis))
    return new ControllerUnavailable({
      operation, status, reason: `status ${status}: ${body}`,
      ...(retryAfterMillis === undefined ? {} : { retryAfterMillis })
    })
  }
  return new ControllerRejected({ operation, status, body })
}

const transportFailure = (operation: Operation) => (error: HttpClientError.HttpClientError) =>
  new ControllerUnavailable({
    operation,
    reason: error._tag === "RequestError" && error.cause instanceof Error
      ? `${error.reason}: ${error.cause.message}`
      : `${error.reason}: ${error.description ?? "request failed"}`
  })

const makeLive = (settings: ControllerSettings) => Effect.gen(function* () {
  const http = yield* HttpClient.HttpClient
  const token = yield* Token
  const base = settings.apiUrl.href.replace(/\/+$/, "")
  const schedule = controllerRetry(settings.retry)

  /** One exchange: token, request, timeout, classification; 2xx yields the body text. */
  const exchange = (operation: Operation, build: (url: string) => Effect.Effect<HttpClientRequest.HttpClientRequest>, hostname?: string) =>
    Effect.gen(function* () {
      const bearer = yield* token.current
      const request = (yield* build(`${base}${paths[operation]}`)).pipe(
        HttpClientRequest.bearerToken(Redacted.value(bearer)),
        HttpClientRequest.acceptJson)
      const reply = yield* http.execute(request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (body): Reply =>
          ({ status: response.status, retryAfter: response.headers["retry-after"], body }))),
        Effect.mapError(transportFailure(operation)),
        Effect.timeoutFail({
          duration: settings.timeout,
          onTimeout: () => new ControllerUnavailable({ operation, reason: `timed out after ${Duration.format(settings.timeout)}` })
        }))
      if (reply.status >= 200 && reply.status < 300) return reply.body
      return yield* Effect.fail(classify(operation, reply, yield* Clock.currentTimeMillis, hostname))
    }).pipe(Effect.tapError((error) => Effect.logWarning("controller request failed").pipe(
      Effect.annotateLogs({ operation, error: error.message, ...(hostname === undefined ? {} : { hostname })}))))

  const post = <A, I>(schema: Schema.Schema<A, I>, value: A) => (url: string) =>
    HttpClientRequest.schemaBodyJson(schema)(HttpClientRequest.post(url), value).pipe(
      // Encoding a request we built ourselves cannot fail: a failure is a defect.
      Effect.orDie)

  return ControllerClient.of({
    registerRoute: Effect.fn("ControllerClient.registerRoute")(function* (request: RegisterRouteRequest) {
      yield* exchange("register", post(RegisterRouteRequest, request), request.hostname)
    }, Effect.retry(schedule)),
    syncIngresses: Effect.fn("ControllerClient.syncIngresses")(function* (request: SyncIngressesRequest) {
      const body = yield* exchange("sync", post(SyncIngressesRequest, request))
      return decodeSyncResponse(body)
    }, Effect.retry(schedule)),
    unregisterRoute: Effect.fn("ControllerClient.unregisterRoute")(function* (request: UnregisterRouteRequest) {
      yield* exchange("unregister", post(UnregisterRouteRequest, request), request.hostname)
    }, Effect.retry(schedule)),
    healthCheck: Effect.asVoid(exchange("health", (url) => Effect.succeed(HttpClientRequest.get(url))).pipe(
      Effect.withSpan("ControllerClient.healthCheck")))
  })
})

const decodeJson = Schema.decodeUnknownEither(Schema.parseJson(SyncIngressesResponse))

/** The conflicts of a 2xx sync reply; a body that is empty or not the expected JSON means none. */
export const decodeSyncResponse = (body: string): SyncIngressesResponse =>
  Either.getOrElse(decodeJson(body), () => ({ conflicts: [] }))
