/**
 * The reflector's backoff between failed lists and watches: exponential from 800 ms, the
 * base capped at 30 s, jittered uniformly into [d, 2d), never shorter than the server's
 * `Retry-After`, and reset after a quiet spell.
 */
import { Clock, Duration, Effect, Ref, Schedule } from "effect"
import type { KubernetesApiError } from "./KubernetesError.js"

export interface BackoffPolicy {
  readonly initial: Duration.Duration
  /** Cap of the base delay; with jitter the delay stays under twice this. */
  readonly cap: Duration.Duration
  /** Spread each delay uniformly over [d, 2d). */
  readonly jitter: boolean
  /** With no failure for this long, the next delay starts from `initial` again. */
  readonly resetAfter: Duration.Duration
}

export const defaultBackoffPolicy: BackoffPolicy = {
  initial: Duration.millis(800),
  cap: Duration.seconds(30),
  jitter: true,
  resetAfter: Duration.minutes(2)
}

/** The longest `Retry-After` honoured; a server asking for longer is retried sooner. */
const maxRetryAfter = Duration.seconds(60)

const retryAfterOf = (failure: KubernetesApiError | undefined): Duration.Duration =>
  failure?.retryAfterMillis === undefined ? Duration.zero : Duration.min(Duration.millis(failure.retryAfterMillis), maxRetryAfter)

/** The schedule: input is the failure (or `undefined` when there is none to read). */
export const watchBackoff = (policy: BackoffPolicy): Schedule.Schedule<unknown, KubernetesApiError | undefined> => {
  const capped = Schedule.exponential(policy.initial).pipe(Schedule.modifyDelay((_, d) => Duration.min(d, policy.cap)))
  return (policy.jitter ? Schedule.jitteredWith(capped, { min: 1, max: 2 }) : capped).pipe(
    Schedule.intersect(Schedule.identity<KubernetesApiError | undefined>()),
    Schedule.modifyDelay(([, failure], delay) => Duration.max(delay, retryAfterOf(failure))))
}

/** A stateful backoff: `wait` sleeps the next delay, `reset` starts over. */
export interface Backoff {
  readonly wait: (failure: KubernetesApiError | undefined) => Effect.Effect<void>
  readonly reset: Effect.Effect<void>
}

export const makeBackoff = (policy: BackoffPolicy): Effect.Effect<Backoff> => Effect.gen(function* () {
  const driver = yield* Schedule.driver(watchBackoff(policy))
  const lastFailure = yield* Ref.make<number | undefined>(undefined)
  const wait = (failure: KubernetesApiError | undefined) => Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const previous = yield* Ref.getAndSet(lastFailure, now)
    if (previous !== undefined && now - previous > Duration.toMillis(policy.resetAfter)) yield* driver.reset
    // The schedule never ends, so `next` cannot fail.
    yield* Effect.ignore(driver.next(failure))
  })
  return { wait, reset: driver.reset }
})
