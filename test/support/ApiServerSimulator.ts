/**
 * An API-server simulator on loopback: a behavioural imitation of the Kubernetes list/watch wire
 * protocol for ingresses, ingressclasses and services, plus the
 * kube-system namespace, with fault knobs. Not a second API server: no admission, no RBAC beyond
 * one bearer token, no field selectors; label selectors as the domain parses them.
 */
import { Effect, Either } from "effect"
import { matchesLabels, parseLabelSelector } from "../../src/domain/LabelSelector.js"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { apiVersionOf, gatewayApi, gateways, httpRoutes, ingressClasses, ingresses, services, type Resource } from "../../src/kubernetes/Resources.js"
import { makeClusterStore, type ClusterStore, type Json, type LeaseRefusal, type StoredEvent, type StoredLease } from "./ClusterStore.js"

/** A scripted fault for the next list or watch of a resource. */
export type SimFault =
  | { readonly kind: "status"; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: "closeAfter"; readonly events: number }
  | { readonly kind: "killAfter"; readonly events: number }
  | { readonly kind: "silent" }
  | { readonly kind: "garbled" }
  /** A line that is not JSON right after the `events`-th event, in the same burst of writes. */
  | { readonly kind: "garbledAfter"; readonly events: number }
  | { readonly kind: "errorEvent"; readonly code: number }
  | { readonly kind: "expireContinue" }
  | { readonly kind: "delay"; readonly millis: number }
  /** Accept the request and never answer it. */
  | { readonly kind: "hang" }

export interface SimulatorOptions {
  readonly token: string
  readonly port?: number
  readonly store?: ClusterStore
  /** Bookmark period of watches that ask for bookmarks. */
  readonly bookmarkMillis?: number
  /** Split every event line across two writes (exercises line reassembly). */
  readonly splitEvents?: boolean
  readonly kubeSystemUid?: string
  /** Answer the kube-system namespace GET with this error status instead (403, 404). */
  readonly kubeSystemStatus?: number
  /** Also serve requests without credentials (kubectl sends none over plain HTTP). */
  readonly anonymous?: boolean
}

export interface Simulator {
  readonly url: string
  readonly port: number
  readonly store: ClusterStore
  readonly inject: (op: "list" | "watch", resource: Resource, ...faults: ReadonlyArray<SimFault>) => void
  /** Every request's method and path with query, in order. */
  readonly requests: () => ReadonlyArray<string>
  /** Serves the Gateway API (discovery and its resources) or not: as installing or removing its CRDs. Off at first. */
  readonly serveGatewayApi: (served: boolean) => void
  /** A kubeconfig (YAML) for this simulator with the given token. */
  readonly kubeconfig: (token?: string) => string
  readonly close: () => Promise<void>
}

const resources: ReadonlyArray<Resource> = [ingresses, ingressClasses, services, gateways, httpRoutes]

const statusBody = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code }) + "\n"

const reasons: Record<number, string> = {
  400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 410: "Expired", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"
}

/**
 * Writes an error response the way the API server does: text for an unknown path (404 without a
 * reason) and 429, a Status otherwise.
 */
const sendError = (res: ServerResponse, status: number, retryAfterSeconds?: number, message = "simulated failure", reason?: string) => {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) }
  if ((status === 404 && reason === undefined) || status === 429) {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers })
    res.end(status === 404 ? "404 page not found\n" : "Too many requests, please try again later.\n")
    return
  }
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(statusBody(status, reason ?? reasons[status] ?? "Unknown", message))
}

/** Matches a collection path: the resource and the namespace, if namespaced. */
const route = (pathname: string): { readonly resource: Resource; readonly namespace: string | undefined } | undefined => {
  for (const resource of resources) {
    const root = resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`
    if (pathname === `${root}/${resource.plural}`) return { resource, namespace: undefined }
    const match = new RegExp(`^${root}/namespaces/([^/]+)/${resource.plural}$`).exec(pathname)
    if (match && resource.namespaced) return { resource, namespace: decodeURIComponent(match[1] ?? "") }
  }
  return undefined
}

const leasePath = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/

const leaseJson = (lease: StoredLease) => JSON.stringify({
  apiVersion: "coordination.k8s.io/v1", kind: "Lease",
  metadata: { name: lease.name, namespace: lease.namespace, resourceVersion: lease.resourceVersion }, spec: lease.spec
}) + "\n"

/** `coordination.k8s.io/v1` Leases: get, create and conditional update, as the API server answers them. */
const serveLease = (store: ClusterStore, req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) => {
  const namespace = decodeURIComponent(match[1] ?? "")
  const name = match[2] === undefined ? undefined : decodeURIComponent(match[2])
  const answer = (outcome: StoredLease | LeaseRefusal | undefined, created = false) => {
    if (outcome === undefined) return sendError(res, 404, undefined, `leases.coordination.k8s.io "${name}" not found`, "NotFound")
    if ("status" in outcome) return sendError(res, outcome.status, undefined, outcome.message, outcome.reason)
    res.writeHead(created ? 201 : 200, { "content-type": "application/json" })
    res.end(leaseJson(outcome))
  }
  if (req.method === "GET" && name !== undefined) return answer(store.leases.get(namespace, name))
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.once("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { metadata?: { name?: string; resourceVersion?: string }; spec?: Json }
    if (req.method === "POST" && name === undefined) return answer(store.leases.create(namespace, body.metadata?.name ?? "", body.spec ?? {}), true)
    if (req.method === "PUT" && name !== undefined) return answer(store.leases.update(namespace, name, body.spec ?? {}, body.metadata?.resourceVersion))
    sendError(res, 405, undefined, "method not allowed")
  })
}

/** Starts a simulator; `close` stops it and ends open watches. */
export const startSimulator = (options: SimulatorOptions): Promise<Simulator> => {
  const store = options.store ?? makeClusterStore()
  const faults: Array<{ readonly key: string; readonly fault: SimFault }> = []
  const log: Array<string> = []
  let gatewayApiServed = false
  const continues = new Map<string, { readonly resourceVersion: string; readonly items: ReadonlyArray<Json> }>()
  const open = new Set<ServerResponse>()
  const takeFault = (key: string): SimFault | undefined => {
    const index = faults.findIndex((f) => f.key === key)
    return index < 0 ? undefined : faults.splice(index, 1)[0]?.fault
  }

  /** The query's label selector as a predicate on objects; everything when there is none. */
  const selected = (query: URLSearchParams) => {
    const selector = Either.getOrUndefined(parseLabelSelector(query.get("labelSelector") ?? ""))
    return (object: Json) => selector === undefined || matchesLabels(selector, (object["metadata"] as { labels?: Record<string, string> } | undefined)?.labels)
  }

  const list = (res: ServerResponse, resource: Resource, namespace: string | undefined, query: URLSearchParams, fault: SimFault | undefined) => {
    const limit = Number(query.get("limit") ?? "0")
    const token = query.get("continue")
    if (token !== null && (fault?.kind === "expireContinue" || !continues.has(token))) {
      return sendError(res, 410, undefined, "The provided continue parameter is too old to display a consistent list result.")
    }
    const rv = query.get("resourceVersion")
    if (token === null && rv !== null && rv !== "" && rv !== "0" && Number(rv) > Number(store.revision())) {
      return sendError(res, 504, 1, `Timeout: Too large resource version: ${rv}, current: ${store.revision()}`)
    }
    const snapshot = token === null ? store.list(resource, namespace) : continues.get(token) ?? { resourceVersion: store.revision(), items: [] }
    const matching = token === null ? snapshot.items.filter(selected(query)) : snapshot.items
    const page = limit > 0 ? matching.slice(0, limit) : matching
    const rest = limit > 0 ? matching.slice(limit) : []
    const next = rest.length > 0 ? `c${continues.size}-${snapshot.resourceVersion}` : undefined
    if (next !== undefined) continues.set(next, { resourceVersion: snapshot.resourceVersion, items: rest })
    // List items carry no kind or apiVersion, as a real API server's.
    const items = page.map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item)
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify({
      kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource),
      metadata: { resourceVersion: snapshot.resourceVersion, ...(next === undefined ? {} : { continue: next, remainingItemCount: rest.length }) },
      items
    }) + "\n")
  }

  const watch = (req: IncomingMessage, res: ServerResponse, resource: Resource, namespace: string | undefined, query: URLSearchParams, fault: SimFault | undefined) => {
    const rv = query.get("resourceVersion") ?? ""
    if (rv !== "" && rv !== "0" && Number(rv) > Number(store.revision())) {
      return sendError(res, 504, 1, `Timeout: Too large resource version: ${rv}, current: ${store.revision()}`)
    }
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" })
    res.flushHeaders()
    open.add(res)
    let sent = 0
    const timers: Array<NodeJS.Timeout> = []
    const finish = () => {
      for (const timer of timers) clearTimeout(timer)
      unsubscribe()
      open.delete(res)
      if (!res.writableEnded) res.end()
    }
    // Pieces are written in order, one per turn of the event loop, so a split event really
    // arrives in two reads and the next event never overtakes its second half.
    const pieces: Array<string> = []
    const drain = () => {
      const piece = pieces.shift()
      if (piece === undefined || res.writableEnded) return
      res.write(piece)
      if (pieces.length > 0) timers.push(setTimeout(drain, 0))
    }
    const write = (line: string) => {
      if (res.writableEnded) return
      const half = Math.floor(line.length / 2)
      const idle = pieces.length === 0
      if (options.splitEvents === true && line.length > 2) pieces.push(line.slice(0, half), line.slice(half))
      else pieces.push(line)
      if (idle) drain()
    }
    const emit = (type: string, object: Json) => {
      if (fault?.kind === "silent") return
      if (fault?.kind === "closeAfter" && sent >= fault.events) return finish()
      if (fault?.kind === "killAfter" && sent >= fault.events) return res.socket?.destroy()
      write(JSON.stringify({ type, object }) + "\n")
      sent += 1
      if (fault?.kind === "garbledAfter" && sent === fault.events) write(`{"type":"MODIFIED","object":{"metadata":\n`)
    }
    const matches = (event: StoredEvent) => event.resource === resource.plural && (namespace === undefined || event.namespace === namespace)
    // An object that stops matching the selector is a DELETED to this watch, as on a real server.
    const labelled = selected(query)
    const send = (event: StoredEvent) => (labelled(event.object) ? emit(event.type, event.object) : event.type !== "ADDED" && emit("DELETED", event.object))
    const unsubscribe = store.subscribe((event) => matches(event) && send(event))
    req.on("close", finish)
    if (fault?.kind === "garbled") write(`{"type":"MODIFIED","object":{"metadata":\n`)
    if (fault?.kind === "errorEvent") {
      write(JSON.stringify({ type: "ERROR", object: JSON.parse(statusBody(fault.code, reasons[fault.code] ?? "Unknown", "simulated error event")) }) + "\n")
      return finish()
    }
    const backlog = rv === "" || rv === "0"
      ? store.list(resource, namespace).items.map((object): StoredEvent => ({ revision: 0, resource: resource.plural, namespace, type: "ADDED", object }))
      : store.changesSince(resource, namespace, Number(rv))
    if (backlog === "expired") {
      write(JSON.stringify({ type: "ERROR", object: JSON.parse(statusBody(410, "Expired", `too old resource version: ${rv} (${store.revision()})`)) }) + "\n")
      return finish()
    }
    for (const event of backlog) send(event)
    if (fault?.kind === "closeAfter" && fault.events === 0) return finish()
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? "1800")
    timers.push(setTimeout(finish, timeoutSeconds * 1000))
    if (query.get("allowWatchBookmarks") === "true") {
      const bookmark = () => {
        if (fault?.kind !== "silent") write(JSON.stringify({ type: "BOOKMARK", object: { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: store.revision() } } }) + "\n")
        timers.push(setTimeout(bookmark, options.bookmarkMillis ?? 60_000))
      }
      timers.push(setTimeout(bookmark, options.bookmarkMillis ?? 60_000))
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://simulator")
    log.push(`${req.method} ${url.pathname}${url.search}`)
    const authorized = req.headers.authorization === `Bearer ${options.token}` ||
      (options.anonymous === true && req.headers.authorization === undefined)
    if (!authorized) return sendError(res, 401, undefined, "Unauthorized")
    if (url.pathname === "/version") {
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(JSON.stringify({ major: "1", minor: "31", gitVersion: "v1.31.2", platform: "linux/amd64" }) + "\n")
    }
    if (url.pathname === "/api/v1/namespaces/kube-system" && options.kubeSystemStatus !== undefined) {
      const reason = options.kubeSystemStatus === 404 ? "NotFound" : undefined
      return sendError(res, options.kubeSystemStatus, undefined, `namespaces "kube-system" is not available to this user`, reason)
    }
    if (url.pathname === "/api/v1/namespaces/kube-system") {
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "kube-system", uid: options.kubeSystemUid ?? "kube-system-uid" } }) + "\n")
    }
    const lease = leasePath.exec(url.pathname)
    if (lease !== null) return serveLease(store, req, res, lease)
    if (url.pathname.startsWith(`/apis/${gatewayApi}`) && !gatewayApiServed) return sendError(res, 404)
    if (url.pathname === `/apis/${gatewayApi}`) {
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(JSON.stringify({
        kind: "APIResourceList", apiVersion: "v1", groupVersion: gatewayApi,
        resources: [gateways, httpRoutes].map((r) => ({ name: r.plural, kind: r.kind, namespaced: true, verbs: ["get", "list", "watch"] }))
      }) + "\n")
    }
    const target = route(url.pathname)
    if (target === undefined || req.method !== "GET") return sendError(res, 404)
    const watching = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1"
    const fault = takeFault(`${watching ? "watch" : "list"} ${target.resource.plural}`)
    if (fault?.kind === "status") return sendError(res, fault.status, fault.retryAfterSeconds)
    if (fault?.kind === "hang") return open.add(res)
    const respond = () => (watching ? watch(req, res, target.resource, target.namespace, url.searchParams, fault) : list(res, target.resource, target.namespace, url.searchParams, fault))
    if (fault?.kind === "delay") setTimeout(respond, fault.millis)
    else respond()
  }

  const server: Server = createServer(handle)
  return new Promise((resolve) => server.listen(options.port ?? 0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    const url = `http://127.0.0.1:${port}`
    resolve({
      url, port, store,
      inject: (op, resource, ...added) => faults.push(...added.map((fault) => ({ key: `${op} ${resource.plural}`, fault }))),
      requests: () => [...log],
      serveGatewayApi: (served) => {
        gatewayApiServed = served
      },
      kubeconfig: (token = options.token) => [
        "apiVersion: v1", "kind: Config", "current-context: sim",
        "clusters:", "- name: sim", "  cluster:", `    server: ${url}`, "    insecure-skip-tls-verify: true",
        "users:", "- name: sim", "  user:", `    token: ${token}`,
        "contexts:", "- name: sim", "  context:", "    cluster: sim", "    user: sim"
      ].join("\n") + "\n",
      close: () => new Promise<void>((done) => {
        for (const res of open) res.socket?.destroy()
        server.closeAllConnections()
        server.close(() => done())
      })
    })
  }))
}

/** The simulator as a scoped resource for `it.live` tests. */
export const simulator = (options: SimulatorOptions) =>
  Effect.acquireRelease(Effect.promise(() => startSimulator(options)), (sim) => Effect.promise(() => sim.close()))
