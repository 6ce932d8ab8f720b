/**
 * A `ControllerTransport` that plays back scripted replies and records every request it receives.
 */
import { Effect, Layer, Ref } from "effect"
import { ControllerTransport, TransportFailure } from "../../src/controller/ControllerTransport.js"

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
 * request in arrival order. `hang` keeps the contract of the real transport: it fails once the
 * request's timeout has passed (on the test's clock).
 */
export const makeTransportStub = (replies: ReadonlyArray<StubReply>) => Effect.gen(function* () {
  const requests = yield* Ref.make<ReadonlyArray<CapturedRequest>>([])
  const transport = ControllerTransport.of({
    send: (exchange, timeout) => Effect.gen(function* () {
      const seen = yield* Ref.updateAndGet(requests, (all) => [
        ...all, { method: exchange.method, url: exchange.url, headers: { ...exchange.headers }, body: exchange.body ?? "" }
      ])
      const reply = replies[Math.min(seen.length, replies.length) - 1] ?? { status: 200 }
      if (reply === "hang") return yield* Effect.sleep(timeout).pipe(Effect.zipRight(new TransportFailure({ reason: "timed out" })))
      if (reply === "refused") return yield* new TransportFailure({ reason: "connect ECONNREFUSED" })
      return { status: reply.status, retryAfter: reply.headers?.["retry-after"], body: reply.body ?? "" }
    })
  })
  return { layer: Layer.succeed(ControllerTransport, transport), requests }
})
