import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { initialSyncStatus, observed } from "../../src/gateway/SyncStatus.js"
import { initialStatus } from "../../src/kubernetes/ReflectorStatus.js"
import { agentMetrics, render } from "../../src/observability/Metrics.js"
import { isAlive, notReadyReasons, statusDocument } from "../../src/observability/AdminServer.js"

const sync = {
  ...observed(observed(initialSyncStatus, "register", 0.003), "register", 0.2), started: true, registeredRoutes: 12, lastSyncAt: 1_700_000_000_000,
  register: { ok: 5, failed: 1 }, sync: { ok: 2, failed: 0 },
  decision: { routingMode: "direct" as const, publicEndpoint: "203.0.113.45:80", isPrivate: false, ingressService: Option.none() }
}
const reflector = { ...initialStatus("ingresses"), synced: true, events: { ADDED: 3, MODIFIED: 1 }, restarts: { closed: 2 } }

describe("metrics exposition", () => {
  it("parses as Prometheus text with the families DESIGN §4 names", () => {
    const families = parsePrometheusTextFormat(render(agentMetrics(sync, [reflector])))
    const byName = new Map(families.map((f) => [f.name, f]))
    for (const name of [
      "gateway_route_registrations_total", "gateway_route_unregistrations_total", "gateway_route_syncs_total", "gateway_routes",
      "gateway_controller_request_duration_seconds",
      "gateway_last_successful_sync_timestamp_seconds", "kubernetes_watch_events_total", "kubernetes_watch_restarts_total", "gateway_routing_mode"
    ]) expect(byName.has(name)).toBe(true)
    expect(byName.get("gateway_route_registrations_total")?.metrics).toEqual([
      { labels: { status: "success" }, value: "5" }, { labels: { status: "failure" }, value: "1" }])
    expect(byName.get("gateway_routing_mode")?.metrics).toEqual([
      { labels: { mode: "direct" }, value: "1" }, { labels: { mode: "tunnel" }, value: "0" }])
    expect(byName.get("kubernetes_watch_events_total")?.metrics).toContainEqual({ labels: { resource: "ingresses", type: "ADDED" }, value: "3" })
    expect(byName.get("gateway_last_successful_sync_timestamp_seconds")?.metrics).toEqual([{ value: "1700000000" }])
    const durations = byName.get("gateway_controller_request_duration_seconds")
    expect(durations?.type).toBe("HISTOGRAM")
    expect(durations?.metrics).toEqual([expect.objectContaining({
      buckets: expect.objectContaining({ "0.005": "1", "0.1": "1", "0.25": "2", "+Inf": "2" })
    })])
    const text = render(agentMetrics(sync, [reflector]))
    expect(text).toContain(`gateway_controller_request_duration_seconds_count{operation="register"} 2`)
    expect(text).toContain(`gateway_controller_request_duration_seconds_sum{operation="register"} 0.203`)
  })

  it("escapes label values", () => {
    const text = render([{ name: "x", help: "h", type: "gauge", samples: [{ labels: { l: "a\"b\\c\nd" }, value: 1 }] }])
    expect(text).toContain(`x{l="a\\"b\\\\c\\nd"} 1`)
    expect(parsePrometheusTextFormat(text)[0]?.metrics[0]?.labels).toEqual({ l: "a\"b\\c\nd" })
  })
})

describe("status and readiness", () => {
  it("the status document carries the heartbeat metadata", () => {
    expect(statusDocument("c-1", sync, [reflector])).toMatchObject({
      cluster_uuid: "c-1", is_private: false, routing_mode: "direct", public_endpoint: "203.0.113.45:80", gateway_routes: 12, ready: true
    })
  })

  it("is not ready before the caches synced, before the initial sync, or while the token is refused", () => {
    expect(notReadyReasons(initialSyncStatus, [initialStatus("services")])).toEqual(["services not synced", "initial sync not done"])
    expect(notReadyReasons({ ...sync, authFailed: true }, [reflector])).toEqual(["controller refused the token"])
    expect(notReadyReasons(sync, [reflector])).toEqual([])
  })
})

describe("liveness", () => {
  it("fails when the engine stopped, or stalled for 10 minutes with routes pending", () => {
    expect(isAlive(initialSyncStatus, 0)).toBe(true)
    expect(isAlive({ ...initialSyncStatus, engineStopped: true }, 0)).toBe(false)
    const stalled = { ...initialSyncStatus, lastPassAt: 0, pendingRoutes: 3 }
    expect([isAlive(stalled, 600_000), isAlive(stalled, 600_001)]).toEqual([true, false])
    expect(isAlive({ ...stalled, pendingRoutes: 0 }, 3_600_000)).toBe(true)
  })
})
