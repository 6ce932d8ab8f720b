/**
 * `npm run bench [-- --quick] [-- --scenario NAME]`: the agent against the API-server simulator and
 * the reference controller on loopback, beside a floor doing the same HTTP work with no agent
 * logic. Prints one JSON document. Not part of `npm test` (a smoke test runs `--quick`).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses } from "../src/kubernetes/Resources.js"
import { floorStartup, startFloorWatcher } from "./bench/floor.js"
import { floorStartupProcess } from "./bench/floorStartupProcess.js"
import { pipelineStages } from "./bench/stages.js"
import { bundleSizes } from "./bench/bundle.js"
import { tunnelScenario } from "./bench/tunnel.js"
import {
  agentMemory, caughtUp, collectGarbage, cpuSeconds, heapSnapshotFlags, percentiles, seed, sleep, startAgent, startController, startSimulator, twoRoutes, until,
  type Agent, type Controller
} from "./bench/harness.js"
import type { Simulator } from "../test/support/ApiServerSimulator.js"
import { root } from "../test/support/Cli.js"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const only = args.includes("--scenario") ? args[args.indexOf("--scenario") + 1] : undefined
const simToken = "kube-token"

interface Setup {
  readonly sim: Simulator
  readonly controller: Controller
  readonly agent: Agent
  readonly close: () => Promise<void>
}

/** A cluster with `count` Ingresses, a controller, and the agent after its startup sync. */
const setup = async (
  count: number, nodeArgs: ReadonlyArray<string> = [], plain = false, env: Record<string, string> = {}
): Promise<Setup & { readonly syncedToAck: number; readonly startToAck: number }> => {
  const sim = await startSimulator({ token: simToken })
  seed(sim, count)
  const controller = await startController()
  const agent = await startAgent(sim, controller, nodeArgs, plain, env)
  const close = async () => {
    await agent.cli.stop("SIGTERM")
    await controller.close()
    await sim.close()
  }
  const acked = await until(() => controller.acks.syncs.length > 0, 120_000)
  if (!acked) {
    await close()
    throw new Error(`no sync within 120 s; agent output:\n${agent.cli.output().slice(-2000)}`)
  }
  const synced = Date.parse(String((await agent.cli.waitForLog("caches synced"))["ts"]))
  const ack = controller.acks.syncs[0]?.at ?? NaN
  return { sim, controller, agent, close, syncedToAck: ack - synced, startToAck: ack - agent.startedAt }
}

/**
 * Start-up as a user runs it: a plain `node dist/main.js run`, first on a machine (no compiled code
 * kept: `cold`), then again (the code the first start compiled, kept in a directory of this run's).
 */
const startupSync = async () => {
  const results = []
  const codeCache = mkdtempSync(join(tmpdir(), "bench-code-cache-"))
  for (const count of quick ? [50] : [50, 1_000, 10_000]) {
    const startup = async () => {
      const started = await setup(count, [], true, { NODE_COMPILE_CACHE: codeCache })
      await started.close()
      return started
    }
    rmSync(codeCache, { recursive: true, force: true })
    const cold = await startup()
    const run = await startup()
    const sim = await startSimulator({ token: simToken })
    seed(sim, count)
    const controller = await startController()
    const floor = await floorStartup(sim.url, simToken, controller.url)
    const spawnedAt = await floorStartupProcess(sim.url, simToken, controller.url)
    const floorProcess = (controller.acks.syncs[1]?.at ?? NaN) - spawnedAt
    await controller.close()
    await sim.close()
    results.push({
      ingresses: count, routes: 2 * count, caches_synced_to_ack_ms: run.syncedToAck, process_start_to_ack_ms: run.startToAck,
      process_start_to_ack_cold_ms: cold.startToAck, floor_ms: floor,
      floor_process_start_to_ack_ms: floorProcess
    })
  }
  rmSync(codeCache, { recursive: true, force: true })
  return results
}

/**
 * Emits `rate` new Ingresses per second for `warmup + seconds`; latency from the write to the
 * register received. The first `warmup` seconds are reported apart: they measure the JIT compiler
 * as much as the agent.
 */
const emit = async (sim: Simulator, controller: Controller, prefix: string, rate: number, seconds: number, warmup = 0) => {
  const written: Array<readonly [string, number]> = []
  const total = Math.round(rate * (warmup + seconds))
  const started = Date.now()
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate
    const wait = due - Date.now()
    if (wait > 1) await sleep(wait)
    const host = `${prefix}-${i}.example.com`
    written.push([host, Date.now()])
    sim.store.upsert(ingresses, twoRoutes(`${prefix}-${i}`, host))
  }
  await until(() => written.every(([h]) => controller.acks.registers.has(h)), 10_000)
  const latencies = (entries: typeof written) => entries.flatMap(([host, at]) => {
    const ack = controller.acks.registers.get(host)
    return ack === undefined ? [] : [ack - at]
  })
  const cold = written.slice(0, Math.round(rate * warmup))
  const measured = latencies(written.slice(cold.length))
  return {
    events: total - cold.length, lost: total - cold.length - measured.length, ...percentiles(measured),
    ...(warmup > 0 ? { warmup: { seconds: warmup, events: cold.length, ...percentiles(latencies(cold)) } } : {})
  }
}

/** The floor watcher (its own process) against fresh servers, for `measure`. */
const withFloor = async <A>(measure: (sim: Simulator, controller: Controller) => Promise<A>): Promise<A> => {
  const sim = await startSimulator({ token: simToken })
  const controller = await startController()
  const watcher = await startFloorWatcher(sim.url, simToken, controller.url, sim.store.revision())
  const result = await measure(sim, controller)
  await watcher.stop()
  await controller.close()
  await sim.close()
  return result
}

const eventLatency = async (rate = 200, seconds = quick ? 1 : 10, warmup = quick ? 0 : 2) => {
  const run = await setup(100)
  const agent = await emit(run.sim, run.controller, "ev", rate, seconds, warmup)
  await run.close()
  const floor = await withFloor((sim, controller) => emit(sim, controller, "ev", rate, seconds, warmup))
  return { rate_per_second: rate, seconds, agent, floor }
}

/** Steps the rate up until p99 reaches 100 ms or an event is lost; 1 s of warm-up first. */
const stepRates = async (sim: Simulator, controller: Controller) => {
  await emit(sim, controller, "tp-warmup", 200, 1)
  const steps = []
  let best = 0
  for (const rate of quick ? [500] : [250, 500, 750, 1_000, 1_500, 2_000, 3_000]) {
    const result = await emit(sim, controller, `tp${rate}`, rate, quick ? 1 : 3)
    steps.push({ rate_per_second: rate, ...result })
    if (result.lost > 0 || result.p99 >= 100) break
    best = rate
  }
  return { highest_sustained_per_second: best, steps }
}

/**
 * A queued burst: `count` new Ingresses written at once (after 1 s of warm-up at 200/s), then the
 * time until the controller has every register; events per second over that time.
 */
const burst = (count: number) => async (sim: Simulator, controller: Controller) => {
  await emit(sim, controller, "burst-warmup", 200, 1)
  const hosts = Array.from({ length: count }, (_, i) => `burst-${i}.example.com`)
  const started = Date.now()
  hosts.forEach((host, i) => sim.store.upsert(ingresses, twoRoutes(`burst-${i}`, host)))
  const complete = await until(() => hosts.every((h) => controller.acks.registers.has(h)), 60_000)
  const last = Math.max(...hosts.map((h) => controller.acks.registers.get(h) ?? NaN))
  const seconds = (last - started) / 1000
  return { events: count, lost: hosts.filter((h) => !controller.acks.registers.has(h)).length, complete, seconds, events_per_second: Math.round(count / seconds) }
}

const throughput = async () => {
  const run = await setup(100)
  const agent = await stepRates(run.sim, run.controller)
  const agentBurst = await burst(quick ? 500 : 2_000)(run.sim, run.controller)
  await run.close()
  const floor = await withFloor(stepRates)
  const floorBurst = await withFloor(burst(quick ? 500 : 2_000))
  return { criterion: "p99 < 100 ms and nothing lost", agent, floor, queued_burst: { agent: agentBurst, floor: floorBurst, ratio: agentBurst.seconds / floorBurst.seconds } }
}

/**
 * Startup with `count` Ingresses, then `updates` updates the agent catches up with; `measure` is
 * called after startup and after the updates.
 */
const startupThenUpdates = async <A>(count: number, updates: number, nodeArgs: ReadonlyArray<string>, measure: (agent: Agent) => Promise<A>) => {
  const run = await setup(count, nodeArgs)
  const afterStartup = await measure(run.agent)
  // The last Ingress written: the store's revision moves on with the agent's own Lease renewals.
  let lastWritten = ""
  for (let i = 0; i < updates; i++) {
    const n = i % count
    run.sim.store.upsert(ingresses, twoRoutes(`app-${n}`, `app-${n}.example.com`, { rev: String(i) }))
    lastWritten = run.sim.store.revision()
    if (i % 1000 === 999) await sleep(20)
  }
  const caught = await caughtUp(run.agent, lastWritten, 180_000)
  const afterUpdates = await measure(run.agent)
  await run.close()
  return { caught, afterStartup, afterUpdates }
}

/**
 * RSS and heap as the agent holds them after 10 s without work (V8 returns memory lazily), and in
 * a second run the heap that survives a full garbage collection, which is what the agent retains.
 * The collection is a heap snapshot, which itself inflates RSS: hence the two runs.
 */
const memory = async () => {
  const count = quick ? 500 : 10_000
  const updates = quick ? 2_000 : 100_000
  const idle = quick ? 1_000 : 10_000
  const resident = await startupThenUpdates(count, updates, [], async (agent) => {
    await sleep(idle)
    return agentMemory(agent)
  })
  const dir = mkdtempSync(join(tmpdir(), "bench-heap-"))
  const retained = await startupThenUpdates(count, updates, heapSnapshotFlags(dir), async (agent) => {
    await collectGarbage(agent, dir)
    return (await agentMemory(agent)).heap_mb
  })
  rmSync(dir, { recursive: true, force: true })
  // As a user types it: `node dist/main.js run`, without the images' flags.
  const plainRun = await setup(count, [], true)
  await sleep(idle)
  const plain = await agentMemory(plainRun.agent)
  await plainRun.close()
  const growth = (before: number, after: number) => ((after - before) / before) * 100
  return {
    ingresses: count, updates, caught_up: resident.caught && retained.caught, idle_before_reading_ms: idle,
    plain_node_after_startup: plain,
    after_startup: { ...resident.afterStartup, retained_heap_mb: retained.afterStartup },
    after_updates: { ...resident.afterUpdates, retained_heap_mb: retained.afterUpdates },
    rss_growth_percent: growth(resident.afterStartup.rss_mb, resident.afterUpdates.rss_mb),
    retained_heap_growth_percent: growth(retained.afterStartup, retained.afterUpdates)
  }
}

const idleCpu = async () => {
  const seconds = quick ? 2 : 30
  const run = await setup(1_000)
  await sleep(2_000)
  const pid = run.agent.pid()
  const before = pid === undefined ? NaN : cpuSeconds(pid)
  await sleep(seconds * 1000)
  const after = pid === undefined ? NaN : cpuSeconds(pid)
  await run.close()
  return { ingresses: 1_000, seconds, cpu_seconds: after - before }
}

/**
 * The agent's CPU per new Ingress (two registers each) when events queue up: a burst written as
 * fast as the simulator takes it, after 2 s of warm-up at 200/s. Independent of how the two cores
 * are shared, unlike the rates above.
 */
const eventCpu = async () => {
  const events = quick ? 500 : 5_000
  const run = await setup(0)
  await emit(run.sim, run.controller, "cpu-warmup", 200, quick ? 0.5 : 2)
  const hosts = Array.from({ length: events }, (_, i) => `burst-${i}.example.com`)
  const pid = run.agent.pid()
  const before = pid === undefined ? NaN : cpuSeconds(pid)
  const started = Date.now()
  for (let i = 0; i < events; i++) {
    run.sim.store.upsert(ingresses, twoRoutes(`burst-${i}`, hosts[i] ?? ""))
    if (i % 100 === 99) await sleep(1)
  }
  const done = await until(() => hosts.every((h) => run.controller.acks.registers.has(h)), 120_000)
  const after = pid === undefined ? NaN : cpuSeconds(pid)
  const wall = Date.now() - started
  await run.close()
  return { events, all_registered: done, wall_ms: wall, agent_cpu_ms_per_event: ((after - before) * 1000) / events }
}

/** The median wall time of running `node ...args` to its exit, `runs` times. */
const processMillis = (args: ReadonlyArray<string>, runs: number) => percentiles(Array.from({ length: runs }, () => {
  const started = performance.now()
  spawnSync(process.execPath, args, { cwd: root })
  return performance.now() - started
})).p50

/** `--help` as a user runs it (process start to exit) beside a bare `node -e 0`, and the bundle's sizes. */
const helpAndBundle = async () => {
  const runs = quick ? 3 : 10
  return { help_ms: processMillis(["dist/main.js", "--help"], runs), node_e_0_ms: processMillis(["-e", "0"], runs), bundle: await bundleSizes() }
}

const scenarios: Record<string, () => Promise<unknown>> = {
  startup_sync: startupSync, event_latency: () => eventLatency(), throughput, event_cpu: eventCpu,
  pipeline_stages: () => pipelineStages(quick ? 300 : 2_000), memory, idle_cpu: idleCpu, tunnel: () => tunnelScenario(quick), help_and_bundle: helpAndBundle
}

const main = async () => {
  const report: Record<string, unknown> = {
    machine: { node: process.version, cpus: (await import("node:os")).cpus().length, quick }
  }
  for (const [name, run] of Object.entries(scenarios)) {
    if (only !== undefined && only !== name) continue
    report[name] = await run()
  }
  console.log(JSON.stringify(report, null, 2))
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error("bench failed:", error)
  process.exit(1)
})
