/**
 * The Prometheus text exposition (format 0.0.4) of the agent's state, rendered from the sync
 * engine's and the reflectors' status on each scrape.
 */
import { durationBuckets, type Histogram, type SyncStatus } from "../gateway/SyncStatus.js"
import type { ReflectorStatus } from "../kubernetes/ReflectorStatus.js"

interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Family {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge" | "histogram"
  /** Sample names default to the family's; histograms name theirs (`_bucket`, `_sum`, `_count`). */
  readonly samples: ReadonlyArray<Sample & { readonly suffix?: string }>
}

const escape = (value: string): string => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")

const renderSample = (name: string, { labels, value }: Sample): string => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`)
  return `${name}${pairs.length === 0 ? "" : `{${pairs.join(",")}}`} ${Number.isFinite(value) ? value : 0}`
}

/** Renders metric families as exposition text. */
export const render = (families: ReadonlyArray<Family>): string =>
  families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples.map((s) => renderSample(f.name + (s.suffix ?? ""), s))].join("\n")).join("\n") + "\n"

/** A histogram's samples: cumulative buckets, +Inf, sum and count. */
const histogramSamples = (labels: Readonly<Record<string, string>>, h: Histogram) => [
  ...durationBuckets.map((le, i) => ({ suffix: "_bucket", labels: { ...labels, le: String(le) }, value: h.buckets[i] ?? 0 })),
  { suffix: "_bucket", labels: { ...labels, le: "+Inf" }, value: h.count },
  { suffix: "_sum", labels, value: h.sum },
  { suffix: "_count", labels, value: h.count }
]

const outcomes = (counter: { readonly ok: number; readonly failed: number }): ReadonlyArray<Sample> =>
  [{ labels: { status: "success" }, value: counter.ok }, { labels: { status: "failure" }, value: counter.failed }]

/** The agent's metric families (DESIGN §4). */
export const agentMetrics = (sync: SyncStatus, reflectors: ReadonlyArray<ReflectorStatus>): ReadonlyArray<Family> => [
  { name: "gateway_route_registrations_total", help: "Register calls by outcome.", type: "counter", samples: outcomes(sync.register) },
  { name: "gateway_route_unregistrations_total", help: "Unregister calls by outcome.", type: "counter", samples: outcomes(sync.unregister) },
  { name: "gateway_route_syncs_total", help: "Authoritative sync calls by outcome.", type: "counter", samples: outcomes(sync.sync) },
  { name: "gateway_routes", help: "Registered (hostname, path) routes.", type: "gauge", samples: [{ labels: {}, value: sync.registeredRoutes }] },
  {
    name: "gateway_controller_request_duration_seconds", help: "Controller call durations, retries included.", type: "histogram",
    samples: Object.entries(sync.durations).flatMap(([operation, h]) => (h === undefined ? [] : histogramSamples({ operation }, h)))
  },
  { name: "gateway_routes_pending", help: "Routes that still differ from the desired state.", type: "gauge", samples: [{ labels: {}, value: sync.pendingRoutes }] },
  { name: "gateway_route_conflicts", help: "Hostnames owned by another cluster.", type: "gauge", samples: [{ labels: {}, value: sync.conflicts.length }] },
  {
    name: "gateway_last_successful_sync_timestamp_seconds", help: "When the last authoritative sync succeeded.", type: "gauge",
    samples: [{ labels: {}, value: (sync.lastSyncAt ?? 0) / 1000 }]
  },
  {
    name: "gateway_routing_mode", help: "The routing mode in force (1) and the other (0).", type: "gauge",
    samples: (["direct", "tunnel"] as const).map((mode) => ({ labels: { mode }, value: sync.decision?.routingMode === mode ? 1 : 0 }))
  },
  {
    name: "kubernetes_watch_events_total", help: "Watch events received, by resource and type.", type: "counter",
    samples: reflectors.flatMap((r) => Object.entries(r.events).map(([type, value]) => ({ labels: { resource: r.resource, type }, value: value ?? 0 })))
  },
  {
    name: "kubernetes_watch_restarts_total", help: "Watches ended and restarted, by resource and reason.", type: "counter",
    samples: reflectors.flatMap((r) => Object.entries(r.restarts).map(([reason, value]) => ({ labels: { resource: r.resource, reason }, value: value ?? 0 })))
  },
  {
    name: "kubernetes_cache_synced", help: "Whether the resource's first list completed (1) or not (0).", type: "gauge",
    samples: reflectors.map((r) => ({ labels: { resource: r.resource }, value: r.synced ? 1 : 0 }))
  }
]
