/**
 * `npm run bench -- --quick` runs and prints one JSON document with every scenario. Asserts the
 * shape only: timings belong to the benchmark, not to pass/fail tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { root } from "../support/Cli.js"

describe("bench --quick", () => {
  it("emits valid JSON with every scenario", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/bench.ts", "--quick"], { cwd: root, timeout: 150_000 })
    const report = JSON.parse(stdout) as Record<string, unknown>
    expect(Object.keys(report)).toEqual(["machine", "startup_sync", "event_latency", "throughput", "event_cpu", "pipeline_stages", "memory", "idle_cpu", "tunnel", "help_and_bundle"])
    expect(report["startup_sync"]).toEqual([expect.objectContaining({ ingresses: 50, routes: 100 })])
    expect(report["event_latency"]).toMatchObject({ agent: { events: 200 }, floor: { events: 200 } })
    expect(report["help_and_bundle"]).toMatchObject({ help_ms: expect.any(Number), bundle: { total_kb: expect.any(Number), help_kb: expect.any(Number), run_kb: expect.any(Number) } })
    expect(report["tunnel"]).toMatchObject({ small_get_c1: { direct: expect.any(Object), proxy: expect.any(Object), tunnel: expect.any(Object) } })
  }, 160_000)
})
