/**
 * The admin HTTP server: `/healthz` (liveness), `/readyz` (readiness), `/metrics` (Prometheus
 * text) and `/status` (JSON). It knows no feature: each one adds its probe and declares its
 * metrics; this server collects and serves them. Nothing secret is in any of them.
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { Metrics } from "./Metrics.js"
import { Probes } from "./Probes.js"

/** 200 with `body` when `reasons` is empty, else 503 listing them. */
const verdict = (reasons: ReadonlyArray<string>, body: Record<string, unknown>) =>
  HttpServerResponse.unsafeJson({ ...body, reasons }, { status: reasons.length === 0 ? 200 : 503 })

/** The admin routes over the probes and metrics in context. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.get("/healthz", Effect.gen(function* () {
    const reasons = yield* (yield* Probes).liveness
    return verdict(reasons, { ok: reasons.length === 0 })
  })),
  HttpRouter.get("/readyz", Effect.gen(function* () {
    const reasons = yield* (yield* Probes).readiness
    return verdict(reasons, { ready: reasons.length === 0 })
  })),
  HttpRouter.get("/metrics", Effect.gen(function* () {
    const { contentType, text } = yield* (yield* Metrics).scrape
    return HttpServerResponse.text(text, { contentType })
  })),
  HttpRouter.get("/status", Effect.gen(function* () {
    const probes = yield* Probes
    const status = yield* probes.status
    const ready = (yield* probes.readiness).length === 0
    const memory = process.memoryUsage()
    return HttpServerResponse.unsafeJson({ ...status, ready, process: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed } })
  }))
)

/** Serves the admin endpoints on `port` (all interfaces, as probes and scrapers need); logs the port it bound. */
export const layer = (port: number): Layer.Layer<never, ServeError, Probes | Metrics> =>
  Layer.merge(HttpServer.serve(router), Layer.effectDiscard(HttpServer.addressWith((address) =>
    Effect.logInfo("admin server listening").pipe(Effect.annotateLogs({ port: address._tag === "TcpAddress" ? address.port : 0 })))))
    .pipe(Layer.provide(NodeHttpServer.layer(() => createServer(), { port })))
