/**
 * A private cluster behind the tunnel, all on loopback: the API-server simulator (no public load
 * balancer, so the agent picks tunnel routing), the reference controller with its edge, an
 * upstream app standing for the ingress controller, and the built agent between them. Clients
 * talk to the edge as the public would.
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { simulator } from "./ApiServerSimulator.js"
import { ingress } from "./Builders.js"
import { startCli, type RunningCli } from "./Cli.js"
import { eventually } from "./Eventually.js"
import { serveController } from "./ControllerServer.js"
import { freePort } from "./Ports.js"
import { startUpstream, type UpstreamApp } from "./Upstream.js"

export const tunnelHost = "shop.example.com"

export interface TunnelRig {
  readonly agent: RunningCli
  readonly upstream: UpstreamApp
  readonly edgePort: number
  readonly adminPort: number
  readonly controller: Effect.Effect.Success<ReturnType<typeof serveController>>
  readonly close: () => Promise<void>
}

/** What came back from the edge. */
export interface EdgeAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** Whether the body arrived whole (`false`: the connection broke first). */
  readonly complete: boolean
}

export interface EdgeRequest {
  readonly method?: string
  readonly path: string
  readonly headers?: http.OutgoingHttpHeaders
  readonly body?: Buffer
  readonly host?: string
}

/** One request to the edge with `Host: shop.example.com` (unless given). */
export const callEdge = (edgePort: number, request: EdgeRequest): Promise<EdgeAnswer> => new Promise((resolve, reject) => {
  const outgoing = http.request({
    host: "127.0.0.1", port: edgePort, method: request.method ?? "GET", path: request.path, agent: false,
    headers: { host: request.host ?? tunnelHost, ...request.headers }
  })
  outgoing.once("error", reject)
  outgoing.once("response", (response) => {
    const chunks: Array<Buffer> = []
    response.on("data", (chunk: Buffer) => chunks.push(chunk))
    const done = () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), complete: response.complete })
    response.once("end", done)
    response.once("error", done)
    response.once("close", () => (response.complete ? undefined : done()))
  })
  outgoing.end(request.body)
})

const admin = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => ({ status: r.status, body: await r.text() }), () => ({ status: 0, body: "" }))

export interface RigOptions {
  /** Added to the agent's environment. */
  readonly env?: Record<string, string>
  /** The agent's controller token (the controller knows `agent-token`). */
  readonly token?: string
  /** Where the agent sends tunnel traffic instead of the upstream app (e.g. a closed port). */
  readonly upstreamPort?: number
}

/** Starts everything; the agent sends tunnel traffic to the upstream app. */
export const startTunnelRig = async (options: RigOptions = {}): Promise<TunnelRig> => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))
  const sim = await inScope(simulator({ token: "kube-token", kubeSystemUid: "uid-tunnel" }))
  sim.store.upsert(ingresses, ingress({ name: "shop", host: tunnelHost }))
  const controller = await inScope(serveController(new Map([["agent-token", "uid-tunnel"]]), 0, 0))
  const upstream = await startUpstream("private-cluster")
  const dir = mkdtempSync(join(tmpdir(), "agent-tunnel-"))
  const kubeconfig = join(dir, "kubeconfig")
  writeFileSync(kubeconfig, sim.kubeconfig())
  const adminPort = await Effect.runPromise(freePort())
  const agent = startCli(["run", "--tunnel-upstream", `127.0.0.1:${options.upstreamPort ?? upstream.port}`], {
    KUBECONFIG: kubeconfig, PIPEOPS_API_URL: controller.url, PIPEOPS_TOKEN: options.token ?? "agent-token",
    PIPEOPS_ADMIN_PORT: String(adminPort), LOG_LEVEL: "debug", PIPEOPS_LEADER_ELECT: "false", ...options.env
  })
  return {
    agent, upstream, edgePort: controller.edgePort ?? 0, adminPort, controller,
    close: async () => {
      await agent.stop("SIGKILL")
      await upstream.close()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

/** `/readyz` and friends of the rig's agent. */
export const adminOf = (rig: Pick<TunnelRig, "adminPort">) => (path: string) => admin(rig.adminPort, path)

/** `eventually` for plain async tests: resolves once `check` holds for a fresh value of `read`. */
export const until = <A>(read: () => Promise<A>, check: (a: A) => boolean, timeoutMs = 10_000): Promise<A> =>
  Effect.runPromise(eventually(Effect.promise(read), check, timeoutMs))
