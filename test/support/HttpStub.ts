/**
 * An `HttpClient` that plays back scripted replies and records every request it receives.
 */
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Ref } from "effect"

/** A scripted reply: a status (with body and headers), a refused connection, or no answer. */
export type StubReply =
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | "refused"
  | "hang"

/** What the stub saw of one request. */
export interface CapturedRequest {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/**
 * A stub that answers with `replies` in order, then repeats the last one. `requests` holds every
 * request in arrival order.
 */
export const makeHttpStub = (replies: ReadonlyArray<StubReply>) => Effect.gen(function* () {
  const requests = yield* Ref.make<ReadonlyArray<CapturedRequest>>([])
  const client = HttpClient.make((request) => Effect.gen(function* () {
    const sent = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
    const seen = yield* Ref.updateAndGet(requests, (all) => [
      ...all, { method: request.method, url: request.url, headers: { ...request.headers }, body: sent }
    ])
    const reply = replies[Math.min(seen.length, replies.length) - 1] ?? { status: 200 }
    if (reply === "hang") return yield* Effect.never
    if (reply === "refused") {
      return yield* new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("connect ECONNREFUSED") })
    }
    // The fetch Response refuses a body on null-body statuses.
    const body = [204, 205, 304].includes(reply.status) ? null : reply.body ?? null
    return HttpClientResponse.fromWeb(request, new Response(body, { status: reply.status, headers: reply.headers ?? {} }))
  }))
  return { layer: Layer.succeed(HttpClient.HttpClient, client), requests }
})
