/**
 * What the watch shows of itself: readiness (every cache listed), the `/status` `watch` section,
 * and the watch metrics (events by type, restarts by reason, synced caches), read from the
 * reflectors' status at each scrape.
 */
import { Clock, Effect, type Scope } from "effect"
import { Metrics } from "../observability/Metrics.js"
import { Probes } from "../observability/Probes.js"
import type { ReflectorStatus } from "./ReflectorStatus.js"

const iso = (millis: number | undefined) => (millis === undefined ? null : new Date(millis).toISOString())

/** One reflector in `/status`. */
export const watchStatus = (r: ReflectorStatus) => ({
  resource: r.resource, synced: r.synced, resource_version: r.lastResourceVersion ?? null, last_event_at: iso(r.lastEventAt),
  condition: r.condition ?? null, last_error: r.lastError ?? null, lists: r.lists, restarts: r.restarts, events: r.events
})

/** A cache whose list or watch has been failing this long no longer follows the cluster: not ready. */
export const failingLimitMillis = 30_000

/**
 * Why the caches are not ready at `now`: each one not listed yet, and each whose list or watch has
 * kept failing for 30 s even though it was listed before, with the failure's kind and message.
 */
export const watchNotReady = (reflectors: ReadonlyArray<ReflectorStatus>, now: number): ReadonlyArray<string> =>
  reflectors.flatMap((r) => {
    const condition = r.condition === undefined ? "" : ` (${r.condition}${r.lastError === undefined ? "" : `: ${r.lastError}`})`
    if (!r.synced) return [`${r.resource} not synced${condition}`]
    const failing = r.failingSince !== undefined && now - r.failingSince >= failingLimitMillis
    return failing ? [`${r.resource} not followed: failing for ${Math.round((now - (r.failingSince ?? now)) / 1000)} s${condition}`] : []
  })

/**
 * A watch loop quiet this long is stuck: a healthy one does something at least every few minutes
 * (an event or bookmark, the inactivity watchdog's restart, a request's deadline).
 */
export const stuckAfterMillis = 10 * 60_000

/** Why the watch is not alive at `now`: each loop that has made no progress for 10 minutes. */
export const watchNotAlive = (reflectors: ReadonlyArray<ReflectorStatus>, now: number): ReadonlyArray<string> =>
  reflectors.filter((r) => r.lastProgressAt !== undefined && now - r.lastProgressAt > stuckAfterMillis)
    .map((r) => `${r.resource} watch loop made no progress for ${Math.round((now - (r.lastProgressAt ?? now)) / 60_000)} min`)

/** Adds the watch's probe and metrics for the reflectors whose status `statuses` reads. */
export const observeWatch = (statuses: Effect.Effect<ReadonlyArray<ReflectorStatus>>): Effect.Effect<void, never, Metrics | Probes | Scope.Scope> =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    yield* (yield* Probes).add({
      readiness: Effect.zipWith(statuses, Clock.currentTimeMillis, watchNotReady),
      liveness: Effect.zipWith(statuses, Clock.currentTimeMillis, watchNotAlive),
      status: Effect.map(statuses, (all) => ({ watch: all.map(watchStatus) }))
    })
    const events = yield* metrics.counter({ name: "kubernetes_watch_events_total", help: "Watch events received, by resource and type.", labels: ["resource", "type"] })
    const restarts = yield* metrics.counter({ name: "kubernetes_watch_restarts_total", help: "Watches ended and restarted, by resource and reason.", labels: ["resource", "reason"] })
    const synced = yield* metrics.gauge({ name: "kubernetes_cache_synced", help: "Whether the resource's first list completed (1) or not (0).", labels: ["resource"] })
    yield* metrics.onScrape(Effect.flatMap(statuses, (all) => Effect.forEach(all, (r) => Effect.all([
      synced.set({ resource: r.resource }, r.synced ? 1 : 0),
      ...Object.entries(r.events).map(([type, n]) => events.setTotal({ resource: r.resource, type }, n ?? 0)),
      ...Object.entries(r.restarts).map(([reason, n]) => restarts.setTotal({ resource: r.resource, reason }, n ?? 0))
    ], { discard: true }), { discard: true })))
  })
