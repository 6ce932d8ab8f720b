/**
 * When a tunnel connection is dialed again after it ended: exponential backoff with full jitter
 * (a random point in [0, step]), the step doubling per consecutive failure up to its cap, reset by
 * a connection that lived long enough; after the controller refused the token, never sooner than
 * `authRetry`. Pure, so the policy is a table in the tests.
 */

/** How a connection ended: refused (401/403), not made, lost after it was up, or its PING unanswered. */
export type Ending = "refused" | "dial" | "lost" | "ping"

export interface RedialPolicy {
  /** The backoff steps in ms, by consecutive failures; the last repeats. */
  readonly steps: ReadonlyArray<number>
  /** A connection that lived this long (ms) resets the backoff. */
  readonly resetAfter: number
  /** Least delay after a refusal (ms). */
  readonly authRetry: number
}

export interface RedialState {
  /** Consecutive failures (a long-lived connection resets them). */
  readonly failures: number
  /** Consecutive dials that failed (0 after a connection that was up): 1 means a new streak. */
  readonly dialStreak: number
}

export const initialRedial: RedialState = { failures: 0, dialStreak: 0 }

/** The next state and the delay before the next dial, for an ending `lived` ms after the dial began; `random` in [0, 1). */
export const afterEnding = (state: RedialState, ending: Ending, lived: number, policy: RedialPolicy, random: number) => {
  const failures = lived >= policy.resetAfter ? 0 : state.failures
  const step = policy.steps[Math.min(failures, policy.steps.length - 1)] ?? 0
  const jittered = Math.round(step * random)
  const wasUp = ending === "lost" || ending === "ping"
  return {
    state: { failures: failures + 1, dialStreak: wasUp ? 0 : state.dialStreak + 1 },
    delay: ending === "refused" ? Math.max(jittered, policy.authRetry) : jittered
  }
}
