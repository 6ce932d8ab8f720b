/**
 * The floor: the same HTTP work as the agent with no agent logic. List the Ingresses page by page
 * and POST one sync; or watch and POST one register per event.
 */
import { clusterUuid, token } from "./harness.js"

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

/**
 * Watches Ingresses from `resourceVersion` and POSTs a register for each ADDED event's first host,
 * until `stop` resolves.
 */
export const floorWatcher = async (simUrl: string, simToken: string, controllerUrl: string, resourceVersion: string, stop: Promise<void>) => {
  const abort = new AbortController()
  const response = await fetch(`${simUrl}/apis/networking.k8s.io/v1/ingresses?watch=true&resourceVersion=${resourceVersion}`, { headers: headers(simToken), signal: abort.signal })
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
        const host = event.object.spec?.rules?.[0]?.host
        if (event.type !== "ADDED" || host === undefined) continue
        void fetch(`${controllerUrl}/api/v1/gateway/routes/register`, {
          method: "POST", headers: headers(token),
          body: JSON.stringify({
            hostname: host, cluster_uuid: clusterUuid, namespace: "default", service_name: "web", service_port: 80,
            ingress_name: event.object.metadata.name, path: "/", path_type: "Prefix", tls: false, annotations: {}, public_endpoint: "", routing_mode: "tunnel"
          })
        })
      }
    }
  }
  const pumping = pump()
  await stop
  abort.abort()
  await pumping
}
