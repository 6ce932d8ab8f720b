/**
 * The admin HTTP server: `/healthz` (liveness), `/readyz` (caches synced, initial sync done, the
 * controller accepting our token), `/metrics` (Prometheus text) and `/status` (the heartbeat
 * metadata plus sync and watch state). The token appears in none of them.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import { NodeHttpServer } from "@effect/platform-node"
import { Clock, Effect, Layer } from "effect"
import { createServer } from "node:http"
import { ClusterCache } from "../gateway/ClusterCache.js"
import { RouteSync } from "../gateway/RouteSync.js"
import type { SyncStatus } from "../gateway/SyncStatus.js"
import type { ReflectorStatus } from "../kubernetes/ReflectorStatus.js"
import { agentMetrics, render } from "./Metrics.js"

/** Why the agent is not ready; empty when it is. */
export const notReadyReasons = (sync: SyncStatus, reflectors: ReadonlyArray<ReflectorStatus>): ReadonlyArray<string> => [
  ...reflectors.filter((r) => !r.synced).map((r) => `${r.resource} not synced${r.condition === undefined ? "" : ` (${r.condition})`}`),
  ...(sync.started ? [] : ["initial sync not done"]),
  ...(sync.authFailed ? ["controller refused the token"] : [])
]

/** The `/status` document. */
export const statusDocument = (clusterUuid: string, sync: SyncStatus, reflectors: ReadonlyArray<ReflectorStatus>) => ({
  cluster_uuid: clusterUuid,
  is_private: sync.decision?.isPrivate ?? true,
  routing_mode: sync.decision?.routingMode ?? "tunnel",
  public_endpoint: sync.decision?.publicEndpoint ?? "",
  gateway_routes: sync.registeredRoutes,
  ready: notReadyReasons(sync, reflectors).length === 0,
  sync: {
    started: sync.started,
    last_sync_at: sync.lastSyncAt === undefined ? null : new Date(sync.lastSyncAt).toISOString(),
    pending_routes: sync.pendingRoutes,
    conflicts: sync.conflicts,
    auth_failed: sync.authFailed,
    last_error: sync.lastError ?? null,
    register: sync.register, unregister: sync.unregister, syncs: sync.sync
  },
  watch: reflectors.map((r) => ({
    resource: r.resource, synced: r.synced, resource_version: r.lastResourceVersion ?? null,
    last_event_at: r.lastEventAt === undefined ? null : new Date(r.lastEventAt).toISOString(),
    condition: r.condition ?? null, last_error: r.lastError ?? null, lists: r.lists, restarts: r.restarts, events: r.events
  }))
})

/** A pass older than this while work is expected means the engine is stuck. */
const stuckAfterMillis = 10 * 60_000

/** Liveness: the engine runs, and has run within 10 minutes whenever routes are pending. */
export const isAlive = (sync: SyncStatus, now: number): boolean =>
  !sync.engineStopped && !(sync.lastPassAt !== undefined && sync.pendingRoutes > 0 && now - sync.lastPassAt > stuckAfterMillis)

const router = (clusterUuid: string) => HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", Effect.gen(function* () {
    const sync = yield* (yield* RouteSync).status
    const now = yield* Clock.currentTimeMillis
    const alive = isAlive(sync, now)
    return HttpServerResponse.unsafeJson({ ok: alive }, { status: alive ? 200 : 503 })
  })),
  HttpRouter.get("/readyz", Effect.gen(function* () {
    const reasons = notReadyReasons(yield* (yield* RouteSync).status, yield* (yield* ClusterCache).reflectors)
    return HttpServerResponse.unsafeJson({ ready: reasons.length === 0, reasons }, { status: reasons.length === 0 ? 200 : 503 })
  })),
  HttpRouter.get("/metrics", Effect.gen(function* () {
    const text = render(agentMetrics(yield* (yield* RouteSync).status, yield* (yield* ClusterCache).reflectors))
    return HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
  })),
  HttpRouter.get("/status", Effect.gen(function* () {
    const document = statusDocument(clusterUuid, yield* (yield* RouteSync).status, yield* (yield* ClusterCache).reflectors)
    const memory = process.memoryUsage()
    return HttpServerResponse.unsafeJson({ ...document, process: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed } })
  }))
)

/** Serves the admin endpoints on `port` (all interfaces, as probes and scrapers need). */
export const layer = (port: number, clusterUuid: string): Layer.Layer<never, ServeError, RouteSync | ClusterCache> =>
  HttpServer.serve(router(clusterUuid)).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port })))
