/**
 * The floor: the same HTTP work as the agent with no agent logic. List the Ingresses page by page
 * and POST one sync; or watch and POST the registers of each event.
 */
import { spawn } from "node:child_process"
import * as http from "node:http"
import { join } from "node:path"
import { clusterUuid, token } from "./identity.js"

const headers = (bearer: string) => ({ authorization: `Bearer ${bearer}`, "content-type": "application/json" })

interface Item {
  readonly metadata: { readonly name: string; readonly namespace?: string }
  readonly spec?: { readonly rules?: ReadonlyArray<{ readonly host?: string; readonly http?: { readonly paths: ReadonlyArray<{ readonly path?: string; readonly pathType?: string }> } }> }
}

/** Lists every Ingress (pages of 500) and POSTs one sync body; returns the ms it took. */
export const floorStartup = async (simUrl: string, simToken: string, controllerUrl: string): Promise<number> => {
  const started = Date.now()
  const items: Array<Item> = []
  let next: string | undefined
  do {
    const query = `limit=500${next === undefined ? "" : `&continue=${encodeURIComponent(next)}`}`
    const page = (await (await fetch(`${simUrl}/apis/networking.k8s.io/v1/ingresses?${query}`, { headers: headers(simToken) })).json()) as {
      metadata: { continue?: string }; items: Array<Item>
    }
    items.push(...page.items)
    next = page.metadata.continue
  } while (next !== undefined && next !== "")
  const body = {
    cluster_uuid: clusterUuid, public_endpoint: "", routing_mode: "tunnel",
    ingresses: items.map((i) => ({
      namespace: i.metadata.namespace ?? "default", ingress_name: i.metadata.name, annotations: {},
      rules: (i.spec?.rules ?? []).map((r) => ({
        host: r.host ?? "", tls: false,
        paths: (r.http?.paths ?? []).map((p) => ({ path: p.path ?? "/", path_type: p.pathType ?? "Prefix", service_name: "web", service_port: 80 }))
      }))
    }))
  }
  await fetch(`${controllerUrl}/api/v1/gateway/routes/sync`, { method: "POST", headers: headers(token), body: JSON.stringify(body) })
  return Date.now() - started
}

/** POSTs `body` over a keep-alive connection of `agent`; resolves when the reply has been read. */
const post = (agent: http.Agent, url: string, body: string) => new Promise<void>((resolve) => {
  const request = http.request(url, { method: "POST", agent, headers: { ...headers(token), "content-length": String(Buffer.byteLength(body)) } }, (response) => {
    response.resume()
    response.once("end", resolve)
  })
  request.once("error", () => resolve())
  request.end(body)
})

/**
 * Watches Ingresses from `resourceVersion` and POSTs a register for each path of each ADDED
 * event's first rule (what the agent sends for the bench's Ingresses), over at most 8 keep-alive
 * connections like the agent, until `stop` resolves.
 */
export const floorWatcher = async (simUrl: string, simToken: string, controllerUrl: string, resourceVersion: string, stop: Promise<void>, watching: () => void) => {
  const abort = new AbortController()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const response = await fetch(`${simUrl}/apis/networking.k8s.io/v1/ingresses?watch=true&resourceVersion=${resourceVersion}`, { headers: headers(simToken), signal: abort.signal })
  watching()
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  const pump = async () => {
    for (;;) {
      const chunk = await reader?.read().catch(() => undefined)
      if (chunk === undefined || chunk.done) return
      buffer += decoder.decode(chunk.value, { stream: true })
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        if (line.trim() === "") continue
        const event = JSON.parse(line) as { type: string; object: Item }
        const rule = event.object.spec?.rules?.[0]
        if (event.type !== "ADDED" || rule?.host === undefined) continue
        for (const path of rule.http?.paths ?? []) {
          void post(agent, `${controllerUrl}/api/v1/gateway/routes/register`, JSON.stringify({
            hostname: rule.host, cluster_uuid: clusterUuid, namespace: "default", service_name: "web", service_port: 80,
            ingress_name: event.object.metadata.name, path: path.path ?? "/", path_type: path.pathType ?? "Prefix", tls: false,
            annotations: {}, public_endpoint: "", routing_mode: "tunnel"
          }))
        }
      }
    }
  }
  const pumping = pump()
  await stop
  abort.abort()
  await pumping
  agent.destroy()
}

/**
 * Runs `floorWatcher` in a child process (`floor-process.ts`), so that it has a core of its own
 * like the agent instead of sharing the servers' thread. Resolves once the watch is open.
 */
export const startFloorWatcher = async (simUrl: string, simToken: string, controllerUrl: string, resourceVersion: string) => {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "floor-process.ts"), simUrl, simToken, controllerUrl, resourceVersion], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve())
    child.once("exit", (code) => reject(new Error(`the floor watcher exited with ${code}`)))
  })
  return {
    stop: () => new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.kill("SIGTERM")
    })
  }
}
