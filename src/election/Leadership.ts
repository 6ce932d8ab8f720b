/**
 * What only the leader does: the composition root hands over how to start and stop the writers
 * (the sync engine, the heartbeat); they start when this replica becomes leader and stop when it
 * loses the lease. They also stop when the layer closes, before the election (a dependency, so
 * closed after) releases the lease: no write leaves after the release.
 */
import { Effect, Layer, Stream } from "effect"
import { LeaderElection } from "./LeaderElection.js"

/** Runs `lead` on becoming leader, `follow` on losing it, and `end` when the layer closes (a shutdown). */
export const whileLeading = <R>(lead: Effect.Effect<void, never, R>, follow: Effect.Effect<void, never, R>, end: Effect.Effect<void, never, R> = follow): Layer.Layer<never, never, LeaderElection | R> =>
  Layer.scopedDiscard(Effect.gen(function* () {
    const election = yield* LeaderElection
    yield* Effect.addFinalizer(() => end)
    yield* Effect.forkScoped(Stream.runForEach(election.leadership, (leading) => (leading ? lead : follow)))
  }))
