/**
 * What the tunnel shows of itself: the counts its data plane keeps (plain numbers, bumped from
 * Node callbacks on every request and chunk), and the readiness, `/status` part and metrics
 * made from them.
 */
import { Duration, Effect, Option, Ref, type Scope } from "effect"
import { Metrics } from "../observability/Metrics.js"
import { Probes } from "../observability/Probes.js"
import type { ForwardObserver, Upstream } from "./Forward.js"

/** The data plane's counters. */
export interface TrafficCounts {
  streamsActive: number
  readonly requests: Map<string, number>
  readonly bytes: { in: number; out: number }
}

export const makeCounts = (): TrafficCounts => ({ streamsActive: 0, requests: new Map(), bytes: { in: 0, out: 0 } })

/** The observer `forward` reports to; status 0 (a reset stream) counts as `reset`. */
export const observerOf = (counts: TrafficCounts): ForwardObserver => ({
  started: () => {
    counts.streamsActive += 1
  },
  finished: (status) => {
    counts.streamsActive -= 1
    const code = status === 0 ? "reset" : String(status)
    counts.requests.set(code, (counts.requests.get(code) ?? 0) + 1)
  },
  bytes: (direction, count) => {
    counts.bytes[direction] += count
  }
})

/** The connection side: how many are up, the last problem, whether tunnel mode is on. */
export interface LinkState {
  readonly up: Effect.Effect<number>
  readonly lastError: Ref.Ref<Option.Option<string>>
  readonly wanted: Effect.Effect<boolean>
  readonly upstream: () => Upstream | undefined
}

const showUpstream = (upstream: Upstream | undefined) => (upstream === undefined ? null : `${upstream.host}:${upstream.port}`)

/** Adds the tunnel's probe and metrics; returns the recorders the connection loops use. */
export const observeTunnel = (counts: TrafficCounts, link: LinkState): Effect.Effect<{
  readonly reconnected: (reason: string) => Effect.Effect<void>
  readonly pinged: (rtt: Duration.Duration) => Effect.Effect<void>
}, never, Metrics | Probes | Scope.Scope> => Effect.gen(function* () {
  yield* (yield* Probes).add({
    readiness: Effect.gen(function* () {
      if (!(yield* link.wanted) || (yield* link.up) > 0) return []
      const error = yield* Ref.get(link.lastError)
      return [`tunnel not connected: ${Option.getOrElse(error, () => "dialing")}`]
    }),
    status: Effect.gen(function* () {
      return {
        tunnel: {
          connections: yield* link.up, streams_active: counts.streamsActive, upstream: showUpstream(link.upstream()),
          last_error: Option.getOrNull(yield* Ref.get(link.lastError))
        }
      }
    })
  })
  const metrics = yield* Metrics
  const connections = yield* metrics.gauge({ name: "tunnel_connections", help: "Tunnel connections up.", labels: [] })
  const streams = yield* metrics.gauge({ name: "tunnel_streams_active", help: "Requests in flight through the tunnel.", labels: [] })
  const requests = yield* metrics.counter({ name: "tunnel_requests_total", help: "Tunnel requests by the status the controller got (reset: the stream was reset).", labels: ["code"] })
  const bytes = yield* metrics.counter({ name: "tunnel_bytes_total", help: "Body bytes through the tunnel: in (to the upstream), out (to the controller).", labels: ["direction"] })
  const reconnects = yield* metrics.counter({ name: "tunnel_reconnects_total", help: "Tunnel connections redialed, by why the last one ended.", labels: ["reason"] })
  const rtt = yield* metrics.histogram({
    name: "tunnel_ping_rtt_seconds", help: "Round trip of the tunnel's HTTP/2 PINGs.", labels: [],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]
  })
  yield* metrics.onScrape(Effect.gen(function* () {
    yield* connections.set({}, yield* link.up)
    yield* streams.set({}, counts.streamsActive)
    for (const [code, total] of counts.requests) yield* requests.setTotal({ code }, total)
    yield* bytes.setTotal({ direction: "in" }, counts.bytes.in)
    yield* bytes.setTotal({ direction: "out" }, counts.bytes.out)
  }))
  return {
    reconnected: (reason) => reconnects.inc({ reason }),
    pinged: (duration) => rtt.observe({}, Duration.toMillis(duration) / 1000)
  }
})
