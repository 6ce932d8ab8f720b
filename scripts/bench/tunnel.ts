/**
 * The tunnel benchmark: the same requests to an upstream app four ways, interleaved run by run —
 * direct; through the reference controller's edge on its plain HTTP/1.1 proxy path (a direct
 * route); through the edge and the agent's tunnel; and through `ssh -R` (client to the forwarded
 * port, no edge), when OpenSSH is installed. The controller and the agent are the built program,
 * each its own process; the load generator and the upstream app share this one.
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { simulator } from "../../test/support/ApiServerSimulator.js"
import { ingress } from "../../test/support/Builders.js"
import { startCli } from "../../test/support/Cli.js"
import { callEdge } from "../../test/support/TunnelRig.js"
import { generated, startUpstream } from "../../test/support/Upstream.js"
import { cpuSeconds, freePort, sleep, until } from "./harness.js"
import { runLoad, type Load, type LoadResult, type Target } from "./load.js"
import { sshMissing, startSshReverse } from "./sshReverse.js"

const cluster = "bench-tunnel"
const agentToken = "tunnel-token"
const directToken = "direct-token"

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN

/** Resolves once a request through the tunnel is answered 200; `false` after `timeoutMs`. */
const tunnelAnswers = async (edgePort: number, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if ((await callEdge(edgePort, { path: "/echo", host: "tunnel.bench" })).status === 200) return true
    await sleep(2)
  }
  return false
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024

/** Everything the scenario drives; `close` stops it all. */
const start = async () => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))
  const upstream = await startUpstream("bench")
  const sim = await inScope(simulator({ token: "kube", kubeSystemUid: cluster }))
  sim.store.upsert(ingresses, ingress({ name: "tunnel", host: "tunnel.bench" }))
  // Its connect lines would land in the JSON on stdout.
  const controller = startCli(["controller", "--port", "0", "--edge-port", "0", "--token", `${agentToken}=${cluster}`, "--token", `${directToken}=bench-direct`])
  const listening = await controller.waitForLog("controller listening")
  const url = `http://127.0.0.1:${String(listening["port"])}`
  const edgePort = Number(listening["edge_port"])
  // The proxy path: a direct route whose public endpoint is the upstream.
  await fetch(`${url}/api/v1/gateway/routes/register`, {
    method: "POST", headers: { authorization: `Bearer ${directToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      hostname: "direct.bench", cluster_uuid: "bench-direct", namespace: "default", service_name: "web", service_port: 80, ingress_name: "direct",
      path: "/", path_type: "Prefix", tls: false, annotations: {}, public_endpoint: `127.0.0.1:${upstream.port}`, routing_mode: "direct"
    })
  })
  const dir = mkdtempSync(join(tmpdir(), "bench-tunnel-"))
  writeFileSync(join(dir, "kubeconfig"), sim.kubeconfig())
  const agent = startCli(["run", "--tunnel-upstream", `127.0.0.1:${upstream.port}`], {
    KUBECONFIG: join(dir, "kubeconfig"), PIPEOPS_API_URL: url, PIPEOPS_TOKEN: agentToken, PIPEOPS_ADMIN_PORT: String(await freePort()),
    PIPEOPS_LEADER_ELECT: "false", LOG_LEVEL: "warn"
  })
  await tunnelAnswers(edgePort, 20_000)
  const ssh = sshMissing() === undefined ? await startSshReverse(upstream.port) : undefined
  const targets: Record<string, Target> = {
    direct: { port: upstream.port, host: "upstream" }, proxy: { port: edgePort, host: "direct.bench" }, tunnel: { port: edgePort, host: "tunnel.bench" },
    ...(ssh === undefined ? {} : { ssh_reverse: { port: ssh.port, host: "upstream" } })
  }
  return {
    targets, upstream, agentPid: agent.pid ?? 0,
    /** Drops the agent's tunnel connections at the controller, as a network failure would. */
    drop: () => fetch(`${url}/api/v1/gateway/tunnel`, { method: "DELETE", headers: { authorization: `Bearer ${agentToken}` } }),
    close: async () => {
      ssh?.close()
      await agent.stop("SIGTERM")
      await controller.stop("SIGTERM")
      await upstream.close()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

/** `load` against every target, `runs` rounds interleaved; the median round per target. */
const compare = async (targets: Record<string, Target>, load: Load, runs: number) => {
  const rounds: Record<string, Array<LoadResult>> = {}
  for (let run = 0; run < runs; run++) {
    for (const [name, target] of Object.entries(targets)) (rounds[name] ??= []).push(await runLoad(target, load))
  }
  return Object.fromEntries(Object.entries(rounds).map(([name, results]) => {
    const rate = median(results.map((r) => r.requests_per_second))
    const mb = median(results.map((r) => r.mb_per_second))
    return [name, {
      requests_per_second: Math.round(rate), mb_per_second: Math.round(mb), failures: results.reduce((n, r) => n + r.failures, 0),
      p50_ms: median(results.map((r) => r.latency_ms.p50)), p99_ms: median(results.map((r) => r.latency_ms.p99))
    }]
  }))
}

/** In-flight tunnel requests when the connections drop: how soon they fail, how soon a connection is back. */
const connectionLoss = async (setup: Awaited<ReturnType<typeof start>>) => {
  const { tunnel } = setup.targets
  const inFlight = Array.from({ length: 20 }, (_, i) => `/slow/3000?loss=${i}`)
  const answers = inFlight.map((path) => callEdge(tunnel?.port ?? 0, { path, host: "tunnel.bench" }).then((a) => ({ status: a.status, at: performance.now() })))
  await until(() => inFlight.every((p) => setup.upstream.received.includes(p)), 5_000)
  const dropped = performance.now()
  await setup.drop()
  await tunnelAnswers(tunnel?.port ?? 0, 10_000)
  const reconnected = performance.now() - dropped
  const settled = await Promise.all(answers)
  return {
    in_flight: inFlight.length, failed_with_502: settled.filter((a) => a.status === 502).length,
    slowest_failure_ms: Math.max(...settled.map((a) => a.at - dropped)), answered_again_ms: reconnected
  }
}

export const tunnelScenario = async (quick: boolean) => {
  const setup = await start()
  try {
    const runs = quick ? 1 : 3
    const scale = quick ? 0.1 : 1
    const { targets } = setup
    const small = await compare(targets, { path: "/echo", concurrency: 1, requests: Math.round(2_000 * scale) }, runs)
    const smallParallel = await compare(targets, { path: "/echo", concurrency: 50, requests: Math.round(20_000 * scale) }, runs)
    const mib = 1024 * 1024
    const download = await compare(targets, { path: `/bytes/${mib}`, concurrency: 4, requests: Math.round(400 * scale), expectBytes: mib }, runs)
    const echo = await compare(targets, { path: "/mirror", method: "POST", body: generated(10 * mib), concurrency: 2, requests: Math.round(40 * scale), expectBytes: 10 * mib }, runs)
    // The agent's CPU per 1,000 small requests at concurrency 50, over the tunnel alone.
    const before = cpuSeconds(setup.agentPid)
    const cpuRun = await runLoad(targets["tunnel"] ?? { port: 0, host: "" }, { path: "/echo", concurrency: 50, requests: 10_000 * scale })
    const cpuMsPer1000 = ((cpuSeconds(setup.agentPid) - before) * 1000 * 1000) / cpuRun.requests
    const tunnelOnly = { tunnel: targets["tunnel"] ?? { port: 0, host: "" } }
    const many = quick ? 100 : 1_000
    const burstSmall = await compare(tunnelOnly, { path: "/echo", concurrency: many, requests: many }, 1)
    let peakRss = 0
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(setup.agentPid))), 25)
    const burstMib = await compare(tunnelOnly, { path: `/bytes/${mib}`, concurrency: many, requests: many, expectBytes: mib }, 1)
    clearInterval(sampler)
    const echoes = quick ? 4 : 24
    const twoWay = await compare(tunnelOnly, { path: "/mirror", method: "POST", body: generated(10 * mib), concurrency: echoes, requests: echoes, expectBytes: 10 * mib }, 1)
    const loss = await connectionLoss(setup)
    return {
      runs, ssh_reverse: sshMissing() ?? "measured",
      small_get_c1: small, small_get_c50: smallParallel, get_1mib_c4: download, post_echo_10mib_c2: echo,
      agent_cpu_ms_per_1000_small_requests_c50: cpuMsPer1000,
      concurrent_small: { concurrency: many, ...burstSmall["tunnel"] }, concurrent_1mib_downloads: { concurrency: many, ...burstMib["tunnel"], agent_peak_rss_mb: Math.round(peakRss) },
      concurrent_10mib_two_way_echoes: { concurrency: echoes, ...twoWay["tunnel"] }, connection_loss: loss
    }
  } finally {
    await setup.close()
  }
}
