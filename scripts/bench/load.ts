/**
 * A small HTTP load generator for the tunnel benchmark: `requests` requests at `concurrency` over
 * keep-alive connections to one port with one `Host`, counting what came back whole.
 */
import * as http from "node:http"
import { percentiles } from "./harness.js"

export interface Target {
  readonly port: number
  readonly host: string
}

export interface Load {
  readonly path: string
  readonly method?: string
  readonly body?: Buffer
  readonly concurrency: number
  readonly requests: number
  /** The body size a correct answer has. */
  readonly expectBytes?: number
}

export interface LoadResult {
  readonly requests: number
  readonly failures: number
  readonly seconds: number
  readonly requests_per_second: number
  /** Response plus request body bytes per second, in MB (10^6). */
  readonly mb_per_second: number
  readonly latency_ms: ReturnType<typeof percentiles>
}

/** One request; resolves with the response's body size, or -1 when it failed or came back cut. */
const once = (agent: http.Agent, target: Target, load: Load): Promise<number> => new Promise((resolve) => {
  const request = http.request({
    host: "127.0.0.1", port: target.port, path: load.path, method: load.method ?? "GET", agent,
    headers: { host: target.host, ...(load.body === undefined ? {} : { "content-length": String(load.body.length) }) }
  })
  request.once("error", () => resolve(-1))
  request.once("response", (response) => {
    let bytes = 0
    response.on("data", (chunk: Buffer) => (bytes += chunk.length))
    response.once("error", () => resolve(-1))
    response.once("end", () => resolve(response.statusCode === 200 && response.complete ? bytes : -1))
  })
  request.end(load.body)
})

export const runLoad = async (target: Target, load: Load): Promise<LoadResult> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.concurrency })
  const latencies: Array<number> = []
  let failures = 0
  let bytes = 0
  let issued = 0
  const started = performance.now()
  const worker = async () => {
    while (issued < load.requests) {
      issued += 1
      const at = performance.now()
      const size = await once(agent, target, load)
      latencies.push(performance.now() - at)
      if (size < 0 || (load.expectBytes !== undefined && size !== load.expectBytes)) failures += 1
      else bytes += size + (load.body?.length ?? 0)
    }
  }
  await Promise.all(Array.from({ length: load.concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  return {
    requests: load.requests, failures, seconds, requests_per_second: load.requests / seconds, mb_per_second: bytes / 1e6 / seconds,
    latency_ms: percentiles(latencies)
  }
}
