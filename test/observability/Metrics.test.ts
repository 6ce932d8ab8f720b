import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { ControllerUnavailable } from "../../src/controller/ControllerError.js"
import { Metrics } from "../../src/observability/Metrics.js"
import { Probes } from "../../src/observability/Probes.js"
import { version } from "../../src/Version.js"
import { backend, path, rule, settle, startEngine } from "../gateway/support.js"

const families = (text: string) => new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]))

describe("metrics exposition", () => {
  it.scoped("a running agent's metrics parse as Prometheus text, with every family the agent promises, prefixed", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ services: [{ lb: [{ ip: "203.0.113.45" }] }], ingresses: [{ name: "a", rules: [rule("a.example.com", path("/"), path("/x"))] }] })
      yield* t.controller.setScript((operation, summary) =>
        summary === "b.example.com /" ? new ControllerUnavailable({ operation, status: 503, reason: "down" }) : undefined)
      yield* t.upsert({ name: "b", rules: [rule("b.example.com", path("/", backend("web", 80)))] })
      yield* settle
      const { contentType, text } = yield* Effect.flatMap(Effect.provide(Metrics, t.context), (m) => m.scrape)
      expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8")
      const byName = families(text)
      for (const name of [
        "gateway_route_registrations_total", "gateway_route_unregistrations_total", "gateway_route_syncs_total", "gateway_routes",
        "gateway_controller_request_duration_seconds", "gateway_last_successful_sync_timestamp_seconds", "gateway_routing_mode",
        "kubernetes_watch_events_total", "kubernetes_watch_restarts_total", "build_info"
      ]) expect(byName.has(`pipeops_agent_${name}`)).toBe(true)
      expect([...byName.keys()].every((name) => name.startsWith("pipeops_agent_"))).toBe(true)
      expect(byName.get("pipeops_agent_build_info")?.metrics).toEqual([{ labels: { version }, value: "1" }])
      expect(byName.get("pipeops_agent_gateway_routes")?.metrics).toEqual([{ value: "2" }])
      expect(byName.get("pipeops_agent_gateway_route_syncs_total")?.metrics).toEqual([{ labels: { status: "success" }, value: "1" }])
      expect(byName.get("pipeops_agent_gateway_route_registrations_total")?.metrics).toEqual([{ labels: { status: "failure" }, value: "1" }])
      expect(byName.get("pipeops_agent_gateway_routing_mode")?.metrics).toEqual([
        { labels: { mode: "direct" }, value: "1" }, { labels: { mode: "tunnel" }, value: "0" }])
      expect(byName.get("pipeops_agent_kubernetes_watch_events_total")?.metrics).toContainEqual({ labels: { resource: "ingresses", type: "ADDED" }, value: "1" })
      const durations = byName.get("pipeops_agent_gateway_controller_request_duration_seconds")
      expect(durations?.type).toBe("HISTOGRAM")
      // The parser drops a histogram's other labels when `le` comes first, as prom-client writes it
      // (the format leaves label order free): read the per-operation series from the text.
      for (const operation of ["register", "sync"]) {
        expect(text).toMatch(new RegExp(`^pipeops_agent_gateway_controller_request_duration_seconds_count\\{operation="${operation}"\\} 1$`, "m"))
      }
    }))

  it.effect("process and Node.js metrics when asked for, unprefixed as scrapers expect", () =>
    Effect.gen(function* () {
      const { text } = yield* Effect.flatMap(Metrics, (m) => m.scrape).pipe(Effect.provide(Metrics.layer({ processMetrics: true })))
      const names = [...families(text).keys()]
      expect(names).toEqual(expect.arrayContaining(["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes"]))
    }))

  it.effect("a scrape runs every refresh registered by a live scope; a total set at scrape replaces the last", () =>
    Effect.gen(function* () {
      const metrics = yield* Metrics
      const counter = yield* metrics.counter({ name: "things_total", help: "Things.", labels: ["kind"] })
      const scope = yield* Scope.make()
      let total = 3
      yield* metrics.onScrape(Effect.suspend(() => counter.setTotal({ kind: "a" }, total))).pipe(Scope.extend(scope))
      expect((yield* metrics.scrape).text).toContain(`pipeops_agent_things_total{kind="a"} 3`)
      total = 5
      expect((yield* metrics.scrape).text).toContain(`pipeops_agent_things_total{kind="a"} 5`)
      yield* Scope.close(scope, Exit.void)
      total = 9
      expect((yield* metrics.scrape).text).toContain(`pipeops_agent_things_total{kind="a"} 5`)
    }).pipe(Effect.provide(Metrics.layer({ processMetrics: false }))))
})

describe("probes", () => {
  it.effect("readiness and liveness list every probe's reasons in order; status merges their fields; a closed scope removes its probe", () =>
    Effect.gen(function* () {
      const probes = yield* Probes
      const scope = yield* Scope.make()
      yield* probes.add({ readiness: Effect.succeed(["a not ready"]), status: Effect.succeed({ a: 1 }) })
      yield* probes.add({ readiness: Effect.succeed(["b not ready"]), liveness: Effect.succeed(["b stuck"]), status: Effect.succeed({ b: 2 }) }).pipe(Scope.extend(scope))
      expect([yield* probes.readiness, yield* probes.liveness, yield* probes.status]).toEqual([["a not ready", "b not ready"], ["b stuck"], { a: 1, b: 2 }])
      yield* Scope.close(scope, Exit.void)
      expect([yield* probes.readiness, yield* probes.liveness, yield* probes.status]).toEqual([["a not ready"], [], { a: 1 }])
    }).pipe(Effect.provide(Probes.layer), Effect.scoped))
})
