/**
 * Egress through an HTTP proxy, as private clusters often require: `HTTPS_PROXY` for `https:`
 * (and `wss:`) targets, `HTTP_PROXY` for `http:` (and `ws:`), either name in lower case too, and
 * `NO_PROXY` (comma-separated hosts, `.suffix` or `suffix` matching subdomains, `host:port`, `*`).
 * Connections go through the proxy with HTTP CONNECT, then TLS to the target for `https:`, so the
 * proxy sees neither the token nor the traffic. Proxy credentials in the URL are sent as
 * `Proxy-Authorization: Basic` and never shown.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { Socket } from "node:net"
import * as tls from "node:tls"

export type Environment = Readonly<Record<string, string | undefined>>

/** The variables `proxyFor` reads, in both cases. */
export const proxyVariables: ReadonlyArray<string> = ["https_proxy", "http_proxy", "no_proxy"].flatMap((name) => [name, name.toUpperCase()])

/** The lower-case variable if set and not empty (curl's precedence), else the upper-case one. */
const variable = (env: Environment, name: string) => {
  const lower = env[name.toLowerCase()]
  return lower !== undefined && lower !== "" ? lower : env[name.toUpperCase()]
}

const defaultPort = (url: URL) => (url.port !== "" ? url.port : url.protocol === "https:" || url.protocol === "wss:" ? "443" : "80")

/** Whether `NO_PROXY` exempts the target. */
const exempt = (target: URL, noProxy: string): boolean => {
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase()
  return noProxy.split(/[\s,]+/).filter((e) => e !== "").some((entry) => {
    if (entry === "*") return true
    const [name = "", port] = entry.toLowerCase().split(/:(?=\d+$)/)
    if (port !== undefined && port !== defaultPort(target)) return false
    const suffix = name.replace(/^\*?\./, "")
    return host === suffix || host.endsWith(`.${suffix}`)
  })
}

/** The proxy to reach `target` through, if the environment names one and does not exempt it. */
export const proxyFor = (target: URL, env: Environment): URL | undefined => {
  const secure = target.protocol === "https:" || target.protocol === "wss:"
  const raw = variable(env, secure ? "https_proxy" : "http_proxy")
  if (raw === undefined || raw === "" || exempt(target, variable(env, "no_proxy") ?? "")) return undefined
  try {
    const proxy = new URL(raw.includes("://") ? raw : `http://${raw}`)
    return proxy.protocol === "http:" ? proxy : undefined
  } catch {
    return undefined
  }
}

/** A proxy URL as it may be logged: scheme, host and port only. */
export const showProxy = (proxy: URL): string => `${proxy.protocol}//${proxy.host}`

type Callback = (error: Error | null, socket?: Socket) => void

/** Opens a CONNECT tunnel to `host:port` through `proxy`. */
const connectThrough = (proxy: URL, host: string, port: number | string, callback: Callback) => {
  const authority = `${host.includes(":") ? `[${host}]` : host}:${port}`
  const credentials = proxy.username === "" ? undefined
    : Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64")
  const request = http.request({
    host: proxy.hostname.replace(/^\[(.*)\]$/, "$1"), port: defaultPort(proxy), method: "CONNECT", path: authority, agent: false,
    headers: { host: authority, ...(credentials === undefined ? {} : { "proxy-authorization": `Basic ${credentials}` }) }
  })
  request.once("connect", (response, socket) => {
    if (response.statusCode === 200) return callback(null, socket)
    socket.destroy()
    callback(new Error(`the proxy refused the connection (${response.statusCode ?? 0})`))
  })
  request.once("error", (error) => callback(new Error(`cannot reach the proxy: ${error.message}`)))
  request.end()
}

interface ConnectOptions {
  readonly host?: string | null
  readonly port?: number | string | null
  readonly servername?: string
}

/** An agent whose connections go through `proxy` with CONNECT; `secure`: TLS to the target over it. */
export const proxyAgent = (proxy: URL, secure: boolean, options: http.AgentOptions = {}): http.Agent => {
  const open = (target: ConnectOptions & tls.ConnectionOptions, callback: Callback) => {
    const host = target.host ?? "localhost"
    connectThrough(proxy, host, target.port ?? (secure ? 443 : 80), (error, socket) => {
      if (error !== null || socket === undefined) return callback(error ?? new Error("no socket"))
      if (!secure) return callback(null, socket)
      const secured = tls.connect({ ...target, socket, servername: target.servername ?? host })
      const failed = (e: Error) => callback(e)
      secured.once("error", failed)
      secured.once("secureConnect", () => {
        secured.off("error", failed)
        callback(null, secured)
      })
    })
  }
  // Node's agents accept a connection made later through the callback (undefined returned now).
  const Base = secure ? https.Agent : http.Agent
  const agent = new Base(options)
  Object.assign(agent, { createConnection: (target: ConnectOptions & tls.ConnectionOptions, callback: Callback) => void open(target, callback) })
  return agent
}
