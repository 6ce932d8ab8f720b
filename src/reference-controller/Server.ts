/**
 * The reference controller's HTTP API over an in-memory registry: the counterpart
 * of the agent in end-to-end tests and the demo.
 */
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Data, Effect, Either, HashMap, Option, ParseResult, Ref, Schema } from "effect"
import { HeartbeatRequest, RegisterRouteRequest, SyncIngress, SyncIngressesRequest, SyncRule, UnregisterRouteRequest } from "../controller/Wire.js"
import { isValidHost, normalizeHost } from "../domain/Hostname.js"
import { emptyRegistry, register, routesOf, sync, unregister, type OwnedElsewhere, type RegistryState } from "./Registry.js"
import { clusterOf, type TokenBindings } from "./Tokens.js"

/** The largest request body accepted; larger ones get 413. */
export const maxBodyBytes = 10 * 1024 * 1024

/** A request that ends in an error response; file-private control flow. */
class HttpFailure extends Data.TaggedError("HttpFailure")<{ readonly status: number; readonly error: string }> {}

const fail = (status: number, error: string) => Effect.fail(new HttpFailure({ status, error }))

/** The cluster the request's bearer token is bound to; 401 when missing or unknown. */
const authenticate = (tokens: TokenBindings) => Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers["authorization"] ?? "")
  const cluster = match?.[1] === undefined ? undefined : clusterOf(tokens, match[1])
  return cluster ?? (yield* fail(401, "missing or unknown bearer token"))
})

const invalidHostname = (raw: string) => fail(400, `invalid hostname ${JSON.stringify(raw.slice(0, 100))}`)

/** A hostname as the registry keys it (lower case, no trailing dot); 400 when it is not a DNS name. */
const hostnameOf = (raw: string) => {
  const hostname = normalizeHost(raw)
  return isValidHost(hostname) ? Effect.succeed(hostname) : invalidHostname(raw)
}

/** A sync body with every rule's host normalised; 400 for the first that is not a DNS name. */
const normalizedSync = (body: SyncIngressesRequest) => {
  const invalid = body.ingresses.flatMap((ingress) => ingress.rules).find((rule) => !isValidHost(normalizeHost(rule.host)))
  if (invalid !== undefined) return invalidHostname(invalid.host)
  // Decoded already: the copies need no second check.
  const ingresses = body.ingresses.map((ingress) =>
    new SyncIngress({ ...ingress, rules: ingress.rules.map((rule) => new SyncRule({ ...rule, host: normalizeHost(rule.host) }, true)) }, true))
  return Effect.succeed(new SyncIngressesRequest({ ...body, ingresses }, true))
}

/** The body decoded with a wire schema: 413 when too large, 400 naming the problem otherwise. */
const readBody = <A, I>(schema: Schema.Schema<A, I>) => Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) return yield* fail(413, `body larger than ${maxBodyBytes} bytes`)
  // A chunked body declares no length: reading stops with a failure at the limit.
  const text = yield* request.text.pipe(
    HttpIncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)),
    Effect.catchAll(() => fail(413, `body larger than ${maxBodyBytes} bytes`)))
  const json = yield* Effect.try({ try: (): unknown => JSON.parse(text), catch: (e) => new HttpFailure({ status: 400, error: `malformed JSON: ${e instanceof Error ? e.message : String(e)}` }) })
  return yield* Schema.decodeUnknown(schema, { onExcessProperty: "ignore" })(json).pipe(
    Effect.mapError((e) => new HttpFailure({ status: 400, error: `invalid body: ${ParseResult.TreeFormatter.formatErrorSync(e).replace(/\s+/g, " ")}` })))
})

/** 403 unless the body's cluster is the token's. */
const sameCluster = (token: string, body: string) =>
  token === body ? Effect.void : fail(403, `this token may not write cluster ${body}`)

const ok = (body: unknown) => HttpServerResponse.unsafeJson(body)

/** Applies an operation that may be refused for another cluster's hostname; 409 when it is. */
const modify = (
  registry: Ref.Ref<RegistryState>,
  f: (state: RegistryState) => Either.Either<RegistryState, OwnedElsewhere>
): Effect.Effect<void, HttpFailure> =>
  Effect.flatMap(
    Ref.modify(registry, (state): readonly [Option.Option<OwnedElsewhere>, RegistryState] => {
      const result = f(state)
      return Either.isLeft(result) ? [Option.some(result.left), state] : [Option.none(), result.right]
    }),
    Option.match({
      onNone: () => Effect.void,
      onSome: ({ hostname }) => fail(409, `hostname ${hostname} is owned by another cluster`)
    }))

/** The last heartbeat of a cluster and when it arrived (ms since the epoch). */
export interface LastHeartbeat {
  readonly body: HeartbeatRequest
  readonly at: number
}

/** What the reference controller keeps: the route registry and each cluster's last heartbeat. */
export interface ControllerState {
  readonly registry: Ref.Ref<RegistryState>
  readonly heartbeats: Ref.Ref<HashMap.HashMap<string, LastHeartbeat>>
}

/** A fresh, empty state. */
export const makeControllerState: Effect.Effect<ControllerState> = Effect.all({
  registry: Ref.make(emptyRegistry), heartbeats: Ref.make(HashMap.empty<string, LastHeartbeat>())
})

/** The heartbeat routes: store a cluster's last one, and show it with its arrival and the cluster's route count. */
const heartbeatRoutes = ({ registry, heartbeats }: ControllerState, tokens: TokenBindings) => HttpRouter.empty.pipe(
  HttpRouter.post("/api/v1/clusters/agent/:uuid/heartbeat", Effect.gen(function* () {
    const cluster = yield* authenticate(tokens)
    const { uuid } = yield* HttpRouter.params
    const body = yield* readBody(HeartbeatRequest)
    yield* sameCluster(cluster, body.clusterUuid)
    if (uuid !== body.clusterUuid) return yield* fail(400, "the path's cluster is not the body's cluster_uuid")
    const at = yield* Clock.currentTimeMillis
    yield* Ref.update(heartbeats, HashMap.set(cluster, { body, at }))
    return ok({ status: "received" })
  })),
  HttpRouter.get("/api/v1/clusters/agent/:uuid", Effect.gen(function* () {
    const cluster = yield* authenticate(tokens)
    const { uuid } = yield* HttpRouter.params
    yield* sameCluster(cluster, uuid ?? "")
    const last = HashMap.get(yield* Ref.get(heartbeats), cluster)
    if (Option.isNone(last)) return yield* fail(404, `no heartbeat from cluster ${cluster} yet`)
    return ok({
      ...Schema.encodeSync(HeartbeatRequest)(last.value.body),
      last_seen: new Date(last.value.at).toISOString(),
      registered_routes: routesOf(yield* Ref.get(registry), cluster).length
    })
  })))

/** The API as an `HttpRouter` over `state`, authenticating with `tokens`. */
export const router = (state: ControllerState, tokens: TokenBindings) => {
  const registry = state.registry
  return HttpRouter.empty.pipe(
    HttpRouter.get("/health", Effect.succeed(ok({ status: "ok" }))),
    HttpRouter.post("/api/v1/gateway/routes/register", Effect.gen(function* () {
      const cluster = yield* authenticate(tokens)
      const body = yield* readBody(RegisterRouteRequest)
      const route = new RegisterRouteRequest({ ...body, hostname: yield* hostnameOf(body.hostname) })
      yield* sameCluster(cluster, route.clusterUuid)
      yield* modify(registry, (state) => register(state, route))
      return ok({ status: "registered" })
    })),
    HttpRouter.post("/api/v1/gateway/routes/unregister", Effect.gen(function* () {
      const cluster = yield* authenticate(tokens)
      const body = yield* readBody(UnregisterRouteRequest)
      yield* sameCluster(cluster, body.clusterUuid)
      const hostname = yield* hostnameOf(body.hostname)
      yield* modify(registry, (state) => unregister(state, cluster, hostname))
      return ok({ status: "unregistered" })
    })),
    HttpRouter.post("/api/v1/gateway/routes/sync", Effect.gen(function* () {
      const cluster = yield* authenticate(tokens)
      const body = yield* Effect.flatMap(readBody(SyncIngressesRequest), normalizedSync)
      yield* sameCluster(cluster, body.clusterUuid)
      const conflicts = yield* Ref.modify(registry, (state) => {
        const result = sync(state, body)
        return [result.conflicts, result.state] as const
      })
      if (conflicts.length > 0) yield* Effect.logInfo("sync conflicts").pipe(Effect.annotateLogs({ cluster, conflicts }))
      return ok({ status: "synced", conflicts })
    })),
    HttpRouter.get("/api/v1/gateway/routes/cluster/:uuid", Effect.gen(function* () {
      const cluster = yield* authenticate(tokens)
      const { uuid } = yield* HttpRouter.params
      yield* sameCluster(cluster, uuid ?? "")
      const routes = routesOf(yield* Ref.get(registry), cluster).map((r) => Schema.encodeSync(RegisterRouteRequest)(r))
      return ok({ cluster_uuid: cluster, routes })
    })),
    HttpRouter.concat(heartbeatRoutes(state, tokens)),
    HttpRouter.catchTags({
      HttpFailure: (e) => Effect.succeed(HttpServerResponse.unsafeJson({ error: e.error }, { status: e.status })),
      RouteNotFound: () => Effect.succeed(HttpServerResponse.unsafeJson({ error: "not found" }, { status: 404 }))
    })
  )
}
