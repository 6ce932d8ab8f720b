/**
 * The agent's side of the controller REST API: register, sync and unregister routes,
 * and check the controller's health.
 */
import { Clock, Context, type Duration, Effect, Either, Layer, Option, Redacted, Ref, Schema } from "effect"
import {
  ControllerRejected, ControllerUnauthorized, ControllerUnavailable, RouteConflict,
  type ControllerError, type Operation
} from "./ControllerError.js"
import { redact } from "../http/Redact.js"
import { parseRetryAfter } from "../http/RetryAfter.js"
import { controllerRetry, retryOnFailure, type RetryPolicy } from "./ControllerRetry.js"
import { ControllerTransport, type Reply, type TransportFailure } from "./ControllerTransport.js"
import { Token } from "./Token.js"
import {
  HeartbeatRequest, RegisterRouteRequest, SyncIngressesRequest, SyncIngressesResponse, syncWire, UnregisterRouteRequest
} from "./Wire.js"

/** Where and how the client talks to the controller. */
export interface ControllerSettings {
  /** The controller's base URL; the API paths are appended to it. */
  readonly apiUrl: URL
  /** Per request, including reading the response. */
  readonly timeout: Duration.Duration
  readonly retry: RetryPolicy
  /** Sent as `X-Pipeops-Agent-Id` with every request, so the controller can tell replicas apart. */
  readonly agentId: string
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
  /** Reports the cluster's state. Sent once, not retried: the next heartbeat is the retry. */
  readonly heartbeat: (request: HeartbeatRequest) => Effect.Effect<void, ControllerError>
  /** `GET /health`, once, no retries. */
  readonly healthCheck: Effect.Effect<void, ControllerError>
}>() {
  /** Sends real requests over a `ControllerTransport`, authenticated with the current `Token`. */
  static readonly layer = (settings: ControllerSettings): Layer.Layer<ControllerClient, never, ControllerTransport | Token> =>
    Layer.effect(ControllerClient, makeLive(settings))

  /** Sends nothing: logs each request it would send and reports success. */
  static readonly layerDryRun: Layer.Layer<ControllerClient> = Layer.succeed(ControllerClient, ControllerClient.of({
    registerRoute: (request) => logDryRun("register", Schema.encodeSync(RegisterRouteRequest)(request)),
    syncIngresses: (request) =>
      logDryRun("sync", Schema.encodeSync(SyncIngressesRequest)(request)).pipe(Effect.as({ conflicts: [] })),
    unregisterRoute: (request) => logDryRun("unregister", Schema.encodeSync(UnregisterRouteRequest)(request)),
    heartbeat: (request) => logDryRun("heartbeat", Schema.encodeSync(HeartbeatRequest)(request)),
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
} as const satisfies Record<Exclude<Operation, "heartbeat">, string>

/** The heartbeat path of a cluster. */
export const heartbeatPath = (clusterUuid: string): string => `/api/v1/clusters/agent/${encodeURIComponent(clusterUuid)}/heartbeat`

/**
 * Maps a non-2xx reply to the error the caller should act on. The body goes into the error cut
 * short and with `secrets` (and anything credential-like) redacted: a controller or a proxy may
 * echo the Authorization header, and errors reach logs and `/status`.
 */
export const classify = (operation: Operation, reply: Reply, nowMillis: number, hostname?: string, secrets: ReadonlyArray<string> = []): ControllerError => {
  const { status } = reply
  const body = redact(reply.body, secrets)
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

const makeLive = (settings: ControllerSettings) => Effect.gen(function* () {
  const transport = yield* ControllerTransport
  const token = yield* Token
  const base = settings.apiUrl.href.replace(/\/+$/, "")
  const schedule = controllerRetry(settings.retry)
  // Whether the controller is failing: the first failure of a streak is a warning, the rest (every
  // retry, every hostname) debug, and its first answer after that an info line.
  const failing = yield* Ref.make(false)
  const failed = (error: ControllerError, operation: Operation, hostname: string | undefined) => {
    // 409 is the controller's answer, not its failure: the caller reports it.
    if (error._tag === "RouteConflict") return Effect.void
    const line = (log: typeof Effect.logWarning) =>
      log("controller request failed").pipe(Effect.annotateLogs({ operation, error: error.message, ...(hostname === undefined ? {} : { hostname }) }))
    return Effect.flatMap(Ref.getAndSet(failing, true), (before) => line(before ? Effect.logDebug : Effect.logWarning))
  }
  const answered = Effect.flatMap(Ref.get(failing), (before) =>
    (before ? Effect.zipRight(Ref.set(failing, false), Effect.logInfo("controller answers again")) : Effect.void))

  /** One exchange: token, request, classification; 2xx yields the body text. */
  const exchange = (operation: Operation, path: string, body: string | undefined, hostname?: string) =>
    Effect.gen(function* () {
      // The one place the token is unwrapped: for the header, and to redact it from what comes back.
      const secret = Redacted.value(yield* token.current)
      const headers = {
        authorization: `Bearer ${secret}`, accept: "application/json", "x-pipeops-agent-id": settings.agentId,
        ...(body === undefined ? {} : { "content-type": "application/json" })
      }
      const reply = yield* transport.send({ method: body === undefined ? "GET" : "POST", url: `${base}${path}`, headers, body }, settings.timeout).pipe(
        Effect.mapError((failure: TransportFailure) => new ControllerUnavailable({ operation, reason: redact(failure.reason, [secret]) })))
      if (reply.status >= 200 && reply.status < 300) return reply.body
      return yield* Effect.fail(classify(operation, reply, yield* Clock.currentTimeMillis, hostname, [secret]))
    }).pipe(Effect.tapBoth({ onFailure: (error) => failed(error, operation, hostname), onSuccess: () => answered }))

  return ControllerClient.of({
    // The per-route methods are untraced: a span and a captured stack per call cost 0.11 ms of CPU,
    // a fifth of a register call, and the agent makes one per route change. Sync stays traced.
    registerRoute: Effect.fnUntraced(function* (request: RegisterRouteRequest) {
      yield* exchange("register", paths.register, encodeRegister(request), request.hostname)
    }, retryOnFailure(schedule)),
    syncIngresses: Effect.fn("ControllerClient.syncIngresses")(function* (request: SyncIngressesRequest) {
      const body = yield* exchange("sync", paths.sync, encodeSync(request))
      return decodeSyncResponse(body)
    }, retryOnFailure(schedule)),
    unregisterRoute: Effect.fnUntraced(function* (request: UnregisterRouteRequest) {
      yield* exchange("unregister", paths.unregister, encodeUnregister(request), request.hostname)
    }, retryOnFailure(schedule)),
    heartbeat: (request) => Effect.asVoid(exchange("heartbeat", heartbeatPath(request.clusterUuid), encodeHeartbeat(request))).pipe(
      Effect.withSpan("ControllerClient.heartbeat")),
    healthCheck: Effect.asVoid(exchange("health", paths.health, undefined)).pipe(Effect.withSpan("ControllerClient.healthCheck"))
  })
})

/** The JSON body of a request we built ourselves: encoding cannot fail, a failure is a defect. */
const jsonOf = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encodeSync(schema)
  return (value: A): string => JSON.stringify(encode(value))
}
const encodeRegister = jsonOf(RegisterRouteRequest)
const encodeSync = (request: SyncIngressesRequest): string => JSON.stringify(syncWire(request))
const encodeUnregister = jsonOf(UnregisterRouteRequest)
const encodeHeartbeat = jsonOf(HeartbeatRequest)

const decodeJson = Schema.decodeUnknownEither(Schema.parseJson(SyncIngressesResponse))

/** The conflicts of a 2xx sync reply; a body that is empty or not the expected JSON means none. */
export const decodeSyncResponse = (body: string): SyncIngressesResponse =>
  Either.getOrElse(decodeJson(body), () => ({ conflicts: [] }))
