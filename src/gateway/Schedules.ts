/**
 * The sync engine's schedules: when it resyncs, and how its retries of failed calls back off.
 */
import { Chunk, Duration, Effect, Schedule } from "effect"

/** The periodic authoritative sync: every `interval`, each wait jittered (×0.8 to ×1.2). */
export const resyncEvery = (interval: Duration.Duration) => Schedule.spaced(interval).pipe(Schedule.jittered)

/** The engine's retry of a hostname (or a sync) after consecutive failures: doubling from `base`, capped. */
export const engineRetry = (base: Duration.Duration, cap: Duration.Duration) =>
  Schedule.exponential(base).pipe(Schedule.modifyDelay((_, delay) => Duration.min(delay, cap)))

/**
 * The first `count` delays of a schedule, in milliseconds: the engine's step is pure and reads
 * its retry delays as data.
 */
export const delaysOf = (schedule: Schedule.Schedule<unknown, unknown>, count: number): Effect.Effect<ReadonlyArray<number>> =>
  Effect.map(Schedule.run(Schedule.delays(schedule), 0, Array.from({ length: count }, () => undefined)), (delays) =>
    Chunk.toReadonlyArray(delays).map(Duration.toMillis))
