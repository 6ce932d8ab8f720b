/**
 * GET requests to the API server over node:http(s), with the TLS agent and auth headers that
 * `@kubernetes/client-node`'s KubeConfig provides. Non-2xx responses become `KubernetesApiError`s
 * carrying the Status message and `Retry-After`.
 */
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js"
import { Clock, Effect, Option, Schema, Stream } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import { StringDecoder } from "node:string_decoder"
import { parseRetryAfter } from "../http/RetryAfter.js"
import { KubernetesApiError, kindOfStatus } from "./KubernetesError.js"

const StatusBody = Schema.parseJson(Schema.Struct({ message: Schema.optional(Schema.String) }))
const decodeStatusBody = Schema.decodeUnknownOption(StatusBody)

/** The error for a non-2xx response: the Status's message when the body is one, else the text. */
export const errorOfResponse = (operation: string, status: number, body: string, retryAfter: number | undefined) =>
  new KubernetesApiError({
    kind: kindOfStatus(status),
    operation,
    status,
    message: Option.match(Option.flatMap(decodeStatusBody(body), (s) => Option.fromNullable(s.message)), {
      onNone: () => body.trim().slice(0, 500) || `HTTP ${status}`,
      onSome: (message) => message
    }),
    ...(retryAfter === undefined ? {} : { retryAfterMillis: retryAfter })
  })

const networkError = (operation: string, cause: unknown) =>
  new KubernetesApiError({ kind: "Network", operation, message: cause instanceof Error ? cause.message : String(cause) })

const readAll = (response: http.IncomingMessage) => Effect.async<string, Error>((resume) => {
  const chunks: Array<Buffer> = []
  response.on("data", (chunk: Buffer) => chunks.push(chunk))
  response.once("end", () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8"))))
  response.on("error", (error) => resume(Effect.fail(error)))
  response.once("aborted", () => resume(Effect.fail(new Error("response aborted"))))
})

/** A request with a JSON body (a write). */
export interface JsonBody {
  readonly method: "POST" | "PUT"
  readonly body: string
}

/**
 * Sends a request (a GET unless `write` says otherwise) and waits for the response headers. The
 * request is destroyed when the scope closes, which is how an interrupted watch aborts. A non-2xx
 * response fails after reading its body.
 */
export const get = (config: KubeConfig, url: URL, operation: string, write?: JsonBody) =>
  Effect.gen(function* () {
    const headers: http.OutgoingHttpHeaders = write === undefined
      ? { accept: "application/json" }
      : { accept: "application/json", "content-type": "application/json", "content-length": Buffer.byteLength(write.body) }
    const options: https.RequestOptions = { method: write?.method ?? "GET", headers }
    yield* Effect.tryPromise({ try: () => config.applyToHTTPSOptions(options), catch: (e) => networkError(operation, e) })
    // Node throws at once on a header it cannot send (a kubeconfig token with a line break): a
    // failed request like any other, never a defect.
    const request = yield* Effect.acquireRelease(
      Effect.try({
        try: () => (url.protocol === "https:" ? https : http).request(url, options),
        catch: (e) => networkError(operation, new Error(`the request could not be built (${e instanceof Error && "code" in e ? String(e.code) : "invalid"})`))
      }),
      (request) => Effect.sync(() => request.destroy()))
    const response = yield* Effect.async<http.IncomingMessage, KubernetesApiError>((resume) => {
      request.once("response", (response) => resume(Effect.succeed(response)))
      request.on("error", (error) => resume(Effect.fail(networkError(operation, error))))
      request.end(write?.body)
    })
    const status = response.statusCode ?? 0
    if (status >= 200 && status < 300) return response
    const body = yield* readAll(response).pipe(Effect.orElseSucceed(() => ""))
    const retryAfter = Option.getOrUndefined(parseRetryAfter(headerValue(response.headers["retry-after"]), yield* Clock.currentTimeMillis))
    return yield* errorOfResponse(operation, status, body, retryAfter)
  })

const headerValue = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

/** A request (a GET unless `write` is given) whose whole response body is returned as text. */
export const getText = (config: KubeConfig, url: URL, operation: string, write?: JsonBody): Effect.Effect<string, KubernetesApiError> =>
  Effect.scoped(Effect.flatMap(get(config, url, operation, write), (response) =>
    Effect.mapError(readAll(response), (e) => networkError(operation, e))))

/**
 * A GET that succeeds once a 2xx response's headers arrived; its body is streamed as lines, the
 * lines that arrived while the consumer was busy coming as one chunk. A body cut short fails the
 * stream with a `Network` error; a last line without its newline is still delivered. Closing the
 * scope aborts the request.
 */
export const getLines = (config: KubeConfig, url: URL, operation: string) =>
  Effect.map(get(config, url, operation), (response) => bodyLines(response, operation))

/** Lines read from a body but not yet taken by its consumer, above which reading pauses. */
const maxBufferedLines = 2048

/**
 * The body split into lines as it arrives, in the socket's callbacks: two more stream stages
 * (`decodeText`, `splitLines`) cost more per watch event than the event's own handling. The
 * string decoder keeps a character split across two chunks whole. A consumer that falls behind
 * pauses the socket (TCP then holds the server back) instead of the agent buffering without
 * bound; it resumes once half the buffer is taken. Ending the stream destroys the response.
 */
const bodyLines = (response: http.IncomingMessage, operation: string): Stream.Stream<string, KubernetesApiError> => {
  let buffered = 0
  const lines = Stream.asyncPush<string, KubernetesApiError>((emit) => Effect.acquireRelease(
    Effect.sync(() => {
      const decoder = new StringDecoder("utf8")
      let partial = ""
      response.on("data", (chunk: Buffer) => {
        const complete = (partial + decoder.write(chunk)).split("\n")
        partial = complete.pop() ?? ""
        if (complete.length === 0) return
        buffered += complete.length
        emit.array(complete)
        if (buffered > maxBufferedLines) response.pause()
      })
      response.once("end", () => {
        const rest = partial + decoder.end()
        if (rest !== "") {
          buffered += 1
          emit.single(rest)
        }
        emit.end()
      })
      response.on("error", (error) => emit.fail(networkError(operation, error)))
      response.once("close", () => {
        if (!response.complete) emit.fail(networkError(operation, new Error("the response closed before its end")))
      })
    }),
    () => Effect.sync(() => response.destroy())))
  return Stream.mapChunks(lines, (taken) => {
    buffered -= taken.length
    if (buffered <= maxBufferedLines / 2 && response.isPaused()) response.resume()
    return taken
  })
}
