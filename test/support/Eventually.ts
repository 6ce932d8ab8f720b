/**
 * Polling for live tests: wait until a condition on some state holds, in real time.
 */
import { Duration, Effect } from "effect"

/** Reads `read` every 20 ms until `check` holds; fails after `timeoutMs`. */
export const eventually = <A>(read: Effect.Effect<A>, check: (a: A) => boolean, timeoutMs = 10_000) =>
  Effect.gen(function* () {
    for (;;) {
      const value = yield* read
      if (check(value)) return value
      yield* Effect.sleep(Duration.millis(20))
    }
  }).pipe(Effect.timeoutFail({ duration: Duration.millis(timeoutMs), onTimeout: () => new Error("condition not reached in time") }))
