/**
 * The agent's Prometheus metrics, on prom-client (the Node.js standard, with the process and
 * Node.js metrics scrapers expect). Features declare their own metrics through this service;
 * every name gets the `pipeops_agent_` prefix, and one registry lives as long as the layer, so
 * tests never share counts. prom-client's types stay in this module.
 */
import { Context, Effect, Layer, Ref, type Scope } from "effect"
import * as prom from "prom-client"
import { version } from "../Version.js"

/** Label values by label name. */
export type Labels<L extends string> = Readonly<Record<L, string>>

/** A declared metric: its name without the prefix, its help text, its label names. */
export interface MetricSpec<L extends string> {
  readonly name: string
  readonly help: string
  readonly labels: ReadonlyArray<L>
}

export interface CounterMetric<L extends string> {
  readonly inc: (labels: Labels<L>, value?: number) => Effect.Effect<void>
  /** Sets a total counted elsewhere (a scrape-time refresh). */
  readonly setTotal: (labels: Labels<L>, value: number) => Effect.Effect<void>
}

export interface GaugeMetric<L extends string> {
  readonly set: (labels: Labels<L>, value: number) => Effect.Effect<void>
}

export interface HistogramMetric<L extends string> {
  readonly observe: (labels: Labels<L>, value: number) => Effect.Effect<void>
}

/** The prefix of every metric the agent declares. */
export const prefix = "pipeops_agent_"

export class Metrics extends Context.Tag("pipeops-agent/observability/Metrics")<Metrics, {
  readonly counter: <L extends string>(spec: MetricSpec<L>) => Effect.Effect<CounterMetric<L>>
  readonly gauge: <L extends string>(spec: MetricSpec<L>) => Effect.Effect<GaugeMetric<L>>
  /** `buckets`: upper bounds; the +Inf bucket is implied. */
  readonly histogram: <L extends string>(spec: MetricSpec<L> & { readonly buckets: ReadonlyArray<number> }) => Effect.Effect<HistogramMetric<L>>
  /** Runs `refresh` before each scrape, while the calling scope is open (gauges read from state). */
  readonly onScrape: (refresh: Effect.Effect<void>) => Effect.Effect<void, never, Scope.Scope>
  /** The exposition text (format 0.0.4), every refresh run first. */
  readonly scrape: Effect.Effect<{ readonly contentType: string; readonly text: string }>
}>() {
  /**
   * A fresh registry with `pipeops_agent_build_info{version}`; `processMetrics` adds prom-client's
   * default `process_*` and `nodejs_*` metrics (the program turns them on; tests need not).
   */
  static readonly layer = (options: { readonly processMetrics: boolean }): Layer.Layer<Metrics> =>
    Layer.effect(Metrics, make(options))
}

const make = (options: { readonly processMetrics: boolean }) => Effect.gen(function* () {
  const registry = new prom.Registry()
  if (options.processMetrics) prom.collectDefaultMetrics({ register: registry })
  const refreshers = yield* Ref.make<ReadonlyArray<Effect.Effect<void>>>([])
  const common = <L extends string>(spec: MetricSpec<L>) =>
    ({ name: `${prefix}${spec.name}`, help: spec.help, labelNames: [...spec.labels], registers: [registry] })

  new prom.Gauge({ name: `${prefix}build_info`, help: "The agent's version; always 1.", labelNames: ["version"], registers: [registry] })
    .set({ version }, 1)

  return Metrics.of({
    counter: (spec) => Effect.sync(() => {
      const counter = new prom.Counter(common(spec))
      return {
        inc: (labels, value = 1) => Effect.sync(() => counter.inc(labels, value)),
        setTotal: (labels, value) => Effect.sync(() => {
          counter.remove(labels)
          counter.inc(labels, value)
        })
      }
    }),
    gauge: (spec) => Effect.sync(() => {
      const gauge = new prom.Gauge(common(spec))
      return { set: (labels, value) => Effect.sync(() => gauge.set(labels, value)) }
    }),
    histogram: (spec) => Effect.sync(() => {
      const histogram = new prom.Histogram({ ...common(spec), buckets: [...spec.buckets] })
      return { observe: (labels, value) => Effect.sync(() => histogram.observe(labels, value)) }
    }),
    onScrape: (refresh) => Effect.acquireRelease(
      Ref.update(refreshers, (all) => [...all, refresh]),
      () => Ref.update(refreshers, (all) => all.filter((r) => r !== refresh))),
    scrape: Effect.gen(function* () {
      yield* Effect.all(yield* Ref.get(refreshers), { discard: true })
      const text = yield* Effect.promise(() => registry.metrics())
      return { contentType: registry.contentType, text }
    })
  })
})
