/**
 * `npm run bench [-- --quick] [-- --scenario NAME]`: the agent against the API-server simulator and
 * the reference controller on loopback, beside a floor doing the same HTTP work with no agent
 * logic. Prints one JSON document. Not part of `npm test` (a smoke test runs `--quick`).
 */
import { ingresses } from "../src/kubernetes/Resources.js"
import { floorStartup, floorWatcher } from "./bench/floor.js"
import {
  agentMemory, cpuSeconds, percentiles, seed, sleep, startAgent, startController, startSimulator, twoRoutes, until,
  type Agent, type Controller
} from "./bench/harness.js"
import type { Simulator } from "../test/support/ApiServerSimulator.js"

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
const setup = async (count: number): Promise<Setup & { readonly syncedToAck: number; readonly startToAck: number }> => {
  const sim = await startSimulator({ token: simToken })
  seed(sim, count)
  const controller = await startController()
  const agent = await startAgent(sim, controller)
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
  const synced = Date.parse(String((await agent.cli.waitForLog("caches synced"))["timestamp"]))
  const ack = controller.acks.syncs[0]?.at ?? NaN
  return { sim, controller, agent, close, syncedToAck: ack - synced, startToAck: ack - agent.startedAt }
}

const startupSync = async () => {
  const results = []
  for (const count of quick ? [50] : [50, 1_000, 10_000]) {
    const run = await setup(count)
    await run.close()
    const sim = await startSimulator({ token: simToken })
    seed(sim, count)
    const controller = await startController()
    const floor = await floorStartup(sim.url, simToken, controller.url)
    await controller.close()
    await sim.close()
    results.push({ ingresses: count, routes: 2 * count, caches_synced_to_ack_ms: run.syncedToAck, process_start_to_ack_ms: run.startToAck, floor_ms: floor })
  }
  return results
}

/** Emits `rate` new Ingresses per second for `seconds`; latency from write to register received. */
const emit = async (sim: Simulator, controller: Controller, prefix: string, rate: number, seconds: number) => {
  const written = new Map<string, number>()
  const total = Math.round(rate * seconds)
  const started = Date.now()
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate
    const wait = due - Date.now()
    if (wait > 1) await sleep(wait)
    const host = `${prefix}-${i}.example.com`
    written.set(host, Date.now())
    sim.store.upsert(ingresses, twoRoutes(`${prefix}-${i}`, host))
  }
  await until(() => [...written.keys()].every((h) => controller.acks.registers.has(h)), 10_000)
  const latencies = [...written].flatMap(([host, at]) => {
    const ack = controller.acks.registers.get(host)
    return ack === undefined ? [] : [ack - at]
  })
  return { events: total, lost: total - latencies.length, ...percentiles(latencies) }
}

const eventLatency = async (rate = 200, seconds = quick ? 1 : 10) => {
  const run = await setup(100)
  const agent = await emit(run.sim, run.controller, "ev", rate, seconds)
  await run.close()
  const sim = await startSimulator({ token: simToken })
  const controller = await startController()
  let stop = () => undefined as void
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  const watching = floorWatcher(sim.url, simToken, controller.url, sim.store.revision(), stopped)
  await sleep(100)
  const floor = await emit(sim, controller, "ev", rate, seconds)
  stop()
  await watching
  await controller.close()
  await sim.close()
  return { rate_per_second: rate, seconds, agent, floor }
}

const throughput = async () => {
  const run = await setup(100)
  const steps = []
  let best = 0
  for (const rate of quick ? [500] : [500, 1_000, 2_000, 3_000, 4_000, 6_000]) {
    const result = await emit(run.sim, run.controller, `tp${rate}`, rate, quick ? 1 : 3)
    steps.push({ rate_per_second: rate, ...result })
    if (result.lost > 0 || result.p99 >= 100) break
    best = rate
  }
  await run.close()
  return { highest_sustained_per_second: best, criterion: "p99 < 100 ms and nothing lost", steps }
}

const memory = async () => {
  const count = quick ? 500 : 10_000
  const updates = quick ? 2_000 : 100_000
  const run = await setup(count)
  await sleep(2_000)
  const afterStartup = await agentMemory(run.agent)
  for (let i = 0; i < updates; i++) {
    const n = i % count
    run.sim.store.upsert(ingresses, twoRoutes(`app-${n}`, `app-${n}.example.com`, { rev: String(i) }))
    if (i % 1000 === 999) await sleep(20)
  }
  await sleep(quick ? 1_000 : 5_000)
  const afterUpdates = await agentMemory(run.agent)
  await run.close()
  return {
    ingresses: count, updates, after_startup: afterStartup, after_updates: afterUpdates,
    rss_growth_percent: ((afterUpdates.rss_mb - afterStartup.rss_mb) / afterStartup.rss_mb) * 100
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

const scenarios: Record<string, () => Promise<unknown>> = {
  startup_sync: startupSync, event_latency: () => eventLatency(), throughput, memory, idle_cpu: idleCpu
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
