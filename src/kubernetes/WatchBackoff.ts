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

/** A stateful backoff: `next` is the delay before the next try, `reset` starts over. */
export interface Backoff {
  /** The delay to wait after `failure` (the caller sleeps it, after saying when it will try again). */
  readonly next: (failure: KubernetesApiError | undefined) => Effect.Effect<Duration.Duration>
  readonly reset: Effect.Effect<void>
}

export const makeBackoff = (policy: BackoffPolicy): Effect.Effect<Backoff> => Effect.gen(function* () {
  // Stepped by hand rather than through a driver, whose `next` sleeps: the caller says when it
  // will try again before it waits.
  const schedule = Schedule.delays(watchBackoff(policy))
  const state = yield* Ref.make(schedule.initial)
  const lastFailure = yield* Ref.make<number | undefined>(undefined)
  const reset = Ref.set(state, schedule.initial)
  const next = (failure: KubernetesApiError | undefined) => Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const previous = yield* Ref.getAndSet(lastFailure, now)
    if (previous !== undefined && now - previous > Duration.toMillis(policy.resetAfter)) yield* reset
    const [nextState, delay] = yield* schedule.step(now, failure, yield* Ref.get(state))
    yield* Ref.set(state, nextState)
    return delay
  })
  return { next, reset }
})
