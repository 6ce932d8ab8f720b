/**
 * One HTTP exchange with the controller, over node:http(s) with keep-alive connections. The
 * platform's HttpClient (undici, a span and a raced timeout fiber per request) cost about twice
 * the CPU of the request itself, and the agent sends one request per route change.
 */
import { Context, Data, Duration, Effect, Layer } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import { proxyAgent } from "../http/Proxy.js"

/** A request as the client builds it. */
export interface Exchange {
  readonly method: "GET" | "POST"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string | undefined
}

/** A completed exchange: the status, the `Retry-After` header, the body text. */
export interface Reply {
  readonly status: number
  readonly retryAfter: string | undefined
  readonly body: string
}

/** The error of a connection the other side closed: reset, or written to after it closed. */
const closedUnder = (error: Error): boolean => "code" in error && (error.code === "ECONNRESET" || error.code === "EPIPE")

/** No reply: the connection failed, broke, or the reply did not come in time. */
export class TransportFailure extends Data.TaggedError("TransportFailure")<{ readonly reason: string }> {}

export class ControllerTransport extends Context.Tag("pipeops-agent/controller/ControllerTransport")<ControllerTransport, {
  /** Sends `exchange` and reads the whole reply; fails when no complete reply came within `timeout`. */
  readonly send: (exchange: Exchange, timeout: Duration.Duration) => Effect.Effect<Reply, TransportFailure>
}>() {
  /** Real requests; idle connections are kept for reuse and closed with the layer. */
  static readonly layer: Layer.Layer<ControllerTransport> = Layer.suspend(() => ControllerTransport.layerVia(undefined))

  /** Real requests, through `proxy` (HTTP CONNECT) when one is given. */
  static readonly layerVia = (proxy: URL | undefined): Layer.Layer<ControllerTransport> => Layer.scoped(ControllerTransport, Effect.gen(function* () {
    const agents = yield* Effect.acquireRelease(
      Effect.sync(() => proxy === undefined
        ? { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }
        : { http: proxyAgent(proxy, false, { keepAlive: true }), https: proxyAgent(proxy, true, { keepAlive: true }) }),
      (agents) => Effect.sync(() => {
        agents.http.destroy()
        agents.https.destroy()
      }))
    return ControllerTransport.of({
      send: (exchange, timeout) => Effect.async<Reply, TransportFailure>((resume) => {
        const url = new URL(exchange.url)
        const secure = url.protocol === "https:"
        const options = {
          method: exchange.method,
          agent: secure ? agents.https : agents.http,
          headers: exchange.body === undefined
            ? exchange.headers
            : { ...exchange.headers, "content-length": String(Buffer.byteLength(exchange.body)) }
        }
        let settled = false
        let request: http.ClientRequest | undefined
        const settle = (result: Effect.Effect<Reply, TransportFailure>) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(result)
        }
        const fail = (reason: string) => settle(Effect.fail(new TransportFailure({ reason })))
        const timer = setTimeout(() => {
          fail(`timed out after ${Duration.format(timeout)}`)
          request?.destroy()
        }, Duration.toMillis(timeout))
        const attempt = (): void => {
          // A call already over (timed out, interrupted) starts nothing more.
          if (settled) return
          // Node throws at once on a header it cannot send (a token with a newline, a non-Latin-1
          // character): a failed call, never a dead engine. The message names the header, not its value.
          try {
            request = (secure ? https : http).request(url, options)
          } catch (error) {
            const code = error instanceof Error && "code" in error ? String(error.code) : "ERR_INVALID_REQUEST"
            return fail(`the request could not be built (${code})`)
          }
          const current = request
          let answered = false
          // `on`, not `once`: a second error with no listener would crash the process.
          current.on("error", (error) => {
            // A kept-alive connection the controller closed (its idle timeout) as this request went
            // out: nothing was answered, so it goes again at once, on another connection, within
            // the same deadline. The controller's calls are idempotent.
            if (current.reusedSocket && !answered && closedUnder(error)) return attempt()
            fail(error.message)
          })
          current.once("response", (response) => {
            answered = true
            const chunks: Array<Buffer> = []
            response.on("data", (chunk: Buffer) => chunks.push(chunk))
            response.once("end", () => {
              const status = response.statusCode ?? 0
              // Node parses the headers on first access; only a failure reads one.
              const retryAfter = status >= 300 ? response.headers["retry-after"] : undefined
              settle(Effect.succeed({ status, retryAfter, body: Buffer.concat(chunks).toString("utf8") }))
            })
            response.on("error", (error) => fail(`the reply broke off: ${error.message}`))
            response.once("close", () => {
              if (!response.complete) fail("the reply broke off before its end")
            })
          })
          current.end(exchange.body)
        }
        attempt()
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
          request?.destroy()
        })
      })
    })
  }))
}
