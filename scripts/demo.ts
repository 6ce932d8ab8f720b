/**
 * `npm run demo`: the whole system on loopback. The API-server simulator holds the cluster in
 * examples/, the reference controller (with its public edge) and the built agent run as
 * processes, and a small HTTP app stands for the cluster's ingress controller. The demo changes
 * the cluster step by step and prints, after each, the controller's route table and what a
 * public request to shop.example.com got back through the edge: direct to the load balancer
 * while the cluster is public, through the agent's tunnel once it is private. Exit code 0 when
 * every step converged and every request was answered by the cluster.
 */
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import { writeFileSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gateways, httpRoutes, ingressClasses, ingresses, services } from "../src/kubernetes/Resources.js"
import { readManifests } from "../src/plan/Manifests.js"
import { startSimulator, type Simulator } from "../test/support/ApiServerSimulator.js"
import { ingress, service } from "../test/support/Builders.js"
import { startCli, type RunningCli } from "../test/support/Cli.js"
import { callEdge } from "../test/support/TunnelRig.js"
import { startUpstream, type Echo } from "../test/support/Upstream.js"

const clusterUuid = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
const token = "demo-token"

interface Route { readonly hostname: string; readonly path: string; readonly service_name: string; readonly service_port: number; readonly routing_mode: string; readonly public_endpoint: string }

const routeTable = async (controllerUrl: string): Promise<ReadonlyArray<Route>> => {
  const response = await fetch(`${controllerUrl}/api/v1/gateway/routes/cluster/${clusterUuid}`, { headers: { authorization: `Bearer ${token}` } })
  return ((await response.json()) as { routes: ReadonlyArray<Route> }).routes
}

const show = (routes: ReadonlyArray<Route>) => {
  const rows = routes.map((r) => `  ${`${r.hostname}${r.path}`.padEnd(32)} -> ${`${r.service_name}:${r.service_port}`.padEnd(18)} ${r.routing_mode} ${r.public_endpoint}`)
  console.log(rows.length === 0 ? "  (no routes)" : rows.join("\n"))
}

/** Waits until the route table satisfies `check`, for at most 15 s. */
const converge = async (controllerUrl: string, check: (routes: ReadonlyArray<Route>) => boolean) => {
  const deadline = Date.now() + 15_000
  for (;;) {
    const routes = await routeTable(controllerUrl)
    if (check(routes)) return { ok: true, routes }
    if (Date.now() > deadline) return { ok: false, routes }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Puts the manifests under `path` of the kinds the simulator serves into the cluster. */
const seed = async (sim: Simulator, path: string) => {
  const objects = await Effect.runPromise(readManifests([path]).pipe(Effect.provide(NodeContext.layer)))
  const byKind = new Map([["Ingress", ingresses], ["Service", services], ["IngressClass", ingressClasses], ["Gateway", gateways], ["HTTPRoute", httpRoutes]])
  for (const { object } of objects) {
    const resource = byKind.get(String(object["kind"]))
    if (resource !== undefined) sim.store.upsert(resource, { ...object })
  }
}

interface ClusterView { readonly metadata?: { readonly routing_mode?: string }; readonly [field: string]: unknown }

/** The controller's view of the cluster (its last heartbeat), once `check` holds, for at most 15 s. */
const clusterView = async (controllerUrl: string, check: (view: ClusterView) => boolean) => {
  const deadline = Date.now() + 15_000
  for (;;) {
    const response = await fetch(`${controllerUrl}/api/v1/clusters/agent/${clusterUuid}`, { headers: { authorization: `Bearer ${token}` } })
    const body = (await response.json()) as ClusterView
    if (response.ok && check(body)) return { ok: true, body }
    if (Date.now() > deadline) return { ok: false, body }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The examples' public load balancer address: the edge dials the local app for it. */
const publicEndpoint = "203.0.113.45:80"

/** A public request for `host` through the edge; whether the cluster answered it the `mode` way. */
const visit = async (edgePort: number, mode: string, host = "shop.example.com") => {
  const answer = await callEdge(edgePort, { path: "/echo?from=the-internet", host })
  const route = String(answer.headers["x-pipeops-edge-route"] ?? "none")
  const body = answer.status === 200 ? (JSON.parse(answer.body.toString()) as Echo) : undefined
  const said = body === undefined ? answer.body.toString().trim() : `${body.app} saw Host=${String(body.headers["host"])} ${body.url}`
  console.log(`  curl -H 'Host: ${host}' http://127.0.0.1:${edgePort}/echo?from=the-internet\n    -> ${answer.status} via ${route}: ${said}`)
  return answer.status === 200 && route === mode
}

const has = (routes: ReadonlyArray<Route>, key: string) => routes.some((r) => `${r.hostname}${r.path}` === key)

const main = async () => {
  const sim = await startSimulator({ token: "kube-token", kubeSystemUid: clusterUuid })
  for (const file of ["examples/cluster.yaml", "examples/shop.yaml", "examples/blog.yaml"]) await seed(sim, file)
  const dir = mkdtempSync(join(tmpdir(), "pipeops-demo-"))
  writeFileSync(join(dir, "kubeconfig"), sim.kubeconfig())
  const processes: Array<RunningCli> = []
  const closers: Array<() => Promise<void>> = []
  const stopAll = async () => {
    await Promise.all(processes.map((p) => p.stop("SIGTERM")))
    await Promise.all(closers.map((close) => close()))
    await sim.close()
  }
  try {
    const app = await startUpstream("the cluster's ingress controller")
    closers.push(app.close)
    const controller = startCli(["controller", "--port", "0", "--edge-port", "0", "--edge-resolve", `${publicEndpoint}=127.0.0.1:${app.port}`, "--token", `${token}=${clusterUuid}`])
    processes.push(controller)
    const listening = await controller.waitForLog("controller listening")
    const controllerUrl = `http://127.0.0.1:${String(listening["port"])}`
    const edgePort = Number(listening["edge_port"])
    console.log(`reference controller on ${controllerUrl}, its public edge on 127.0.0.1:${edgePort} (${publicEndpoint} is the app on 127.0.0.1:${app.port});`)
    console.log(`API-server simulator on ${sim.url}\n`)
    // In a cluster the tunnel's upstream is the ingress controller Service; here, the local app.
    const agent = startCli(["run", "--admin-port", "0", "--tunnel-upstream", `127.0.0.1:${app.port}`], {
      KUBECONFIG: join(dir, "kubeconfig"), PIPEOPS_API_URL: controllerUrl, PIPEOPS_TOKEN: token,
      PIPEOPS_MODE_GRACE_PERIOD: "2s", PIPEOPS_HEARTBEAT_INTERVAL: "1s", PIPEOPS_DISCOVERY_INTERVAL: "1s", LOG_FORMAT: "pretty"
    }, (line) => console.log(`  agent | ${line}`))
    processes.push(agent)

    const steps: ReadonlyArray<{
      readonly title: string; readonly act: () => unknown; readonly done: (r: ReadonlyArray<Route>) => boolean
      readonly visit?: readonly [string, string]
    }> = [
      { title: "startup: the examples are synced (direct: public LoadBalancer)", act: () => undefined,
        done: (r) => r.length === 4 && r.every((x) => x.routing_mode === "direct"), visit: ["direct", "shop.example.com"] },
      { title: "add Ingress docs (docs.example.com)", act: () => sim.store.upsert(ingresses, ingress({ name: "docs", namespace: "blog", host: "docs.example.com" })),
        done: (r) => has(r, "docs.example.com/") },
      { title: "edit Ingress docs: move it to handbook.example.com", act: () => sim.store.upsert(ingresses, ingress({ name: "docs", namespace: "blog", host: "handbook.example.com" })),
        done: (r) => has(r, "handbook.example.com/") && !has(r, "docs.example.com/") },
      { title: "delete Ingress blog", act: () => sim.store.remove(ingresses, "blog", "blog"),
        done: (r) => !has(r, "blog.example.com/") },
      { title: "the LoadBalancer turns private (MetalLB 192.168.1.240): tunnel after the grace period",
        act: () => sim.store.upsert(services, service({ labels: { "app.kubernetes.io/name": "ingress-nginx" }, ports: [{ name: "http", port: 80 }, { name: "https", port: 443 }], lb: [{ ip: "192.168.1.240" }] })),
        done: (r) => r.length > 0 && r.every((x) => x.routing_mode === "tunnel" && x.public_endpoint === ""), visit: ["tunnel", "shop.example.com"] },
      { title: "the Gateway API is installed: an Envoy Gateway and two accepted HTTPRoutes (examples/gateway-api)",
        act: async () => {
          await seed(sim, "examples/gateway-api")
          sim.serveGatewayApi(true)
        },
        done: (r) => has(r, "catalog.store.example.com/search") && has(r, "checkout.store.example.com/healthz"), visit: ["tunnel", "catalog.store.example.com"] }
    ]
    let failed = 0
    for (const [index, step] of steps.entries()) {
      await step.act()
      const result = await converge(controllerUrl, step.done)
      console.log(`\n== step ${index + 1}: ${step.title}: ${result.ok ? "converged" : "DID NOT CONVERGE"}`)
      show(result.routes)
      if (step.visit !== undefined && !(await visit(edgePort, ...step.visit))) failed += 1
      console.log("")
      if (!result.ok) failed += 1
    }
    const view = await clusterView(controllerUrl, (v) => v["metadata"]?.routing_mode === "tunnel")
    console.log(`== the controller's view of the cluster (last heartbeat): ${view.ok ? "current" : "NOT CURRENT"}\n  ${JSON.stringify(view.body)}\n`)
    if (!view.ok) failed += 1
    console.log(failed === 0 ? "demo: every step converged" : `demo: ${failed} step(s) did not converge or were not answered`)
    return failed === 0 ? 0 : 1
  } finally {
    await stopAll()
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error("demo failed:", error)
  process.exit(1)
})
