/**
 * Leader election through a `coordination.k8s.io/v1` Lease: one round per retry period reads the
 * lease and, when the step says so, creates, renews or takes it. Leadership is published for the
 * composition root, which runs the writers (the sync engine, the heartbeat) only while leading.
 * A graceful stop releases the lease. Owns its `/status` part, metrics and log lines.
 */
import { Clock, Context, Duration, Effect, Either, Layer, Random, Schedule, Stream, SubscriptionRef } from "effect"
import {
  electionStep, initialElection, type ElectionInput, type ElectionState, type Lease, type LeaseWrite
} from "../domain/LeaderElection.js"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import { Metrics } from "../observability/Metrics.js"
import { Probes } from "../observability/Probes.js"

export interface ElectionSettings {
  readonly namespace: string
  readonly name: string
  /** This replica's id (the agent id). */
  readonly identity: string
  readonly leaseDuration: Duration.Duration
  readonly renewDeadline: Duration.Duration
  readonly retryPeriod: Duration.Duration
}

export class LeaderElection extends Context.Tag("pipeops-agent/election/LeaderElection")<LeaderElection, {
  readonly isLeader: Effect.Effect<boolean>
  /** Whether this replica leads now, then each change. */
  readonly leadership: Stream.Stream<boolean>
}>() {
  /** Elects through the Lease `settings.namespace/settings.name`. */
  static readonly layer = (settings: ElectionSettings): Layer.Layer<LeaderElection, never, KubernetesApi | Metrics | Probes> =>
    Layer.scoped(LeaderElection, make(settings))

  /** A single writer without a Lease (`--leader-elect=false`): always the leader. */
  static readonly layerAlways = (identity: string): Layer.Layer<LeaderElection, never, Metrics | Probes> =>
    Layer.scoped(LeaderElection, Effect.gen(function* () {
      yield* (yield* Probes).add({ status: Effect.succeed({ leader: { is_leader: true, identity, holder: identity, transitions: 0, lease: null } }) })
      const leader = yield* (yield* Metrics).gauge({ name: "leader", help: "Whether this replica is the leader (1) or not (0).", labels: [] })
      yield* leader.set({}, 1)
      return LeaderElection.of({ isLeader: Effect.succeed(true), leadership: Stream.make(true) })
    }))
}

/**
 * The pause between rounds: the retry period while leading (renewals), jittered ×1 to ×2.2 while
 * following, so followers do not ask in step. The input is whether this replica leads.
 */
export const electionRounds = (retryPeriod: Duration.Duration) => Schedule.spaced(retryPeriod).pipe(
  Schedule.intersect(Schedule.identity<boolean>()),
  Schedule.modifyDelayEffect(([, leading], delay) =>
    leading ? Effect.succeed(delay) : Effect.map(Random.nextRange(1, 2.2), (factor) => Duration.times(delay, factor))))

const make = (settings: ElectionSettings) => Effect.gen(function* () {
  const api = yield* KubernetesApi
  const metrics = yield* Metrics
  const timings = {
    leaseDuration: Duration.toMillis(settings.leaseDuration), renewDeadline: Duration.toMillis(settings.renewDeadline),
    retryPeriod: Duration.toMillis(settings.retryPeriod)
  }
  // A request that hangs must not keep a leader writing after its lease could expire elsewhere.
  const deadline = Duration.millis(Math.min(2 * timings.retryPeriod, timings.leaseDuration - timings.renewDeadline))
  const state = yield* SubscriptionRef.make<ElectionState>(initialElection(settings.identity, timings))
  const transitions = yield* metrics.counter({ name: "leader_transitions_total", help: "Changes of the lease's holder this replica saw.", labels: [] })
  const leaderGauge = yield* metrics.gauge({ name: "leader", help: "Whether this replica is the leader (1) or not (0).", labels: [] })
  const where = { lease: `${settings.namespace}/${settings.name}`, identity: settings.identity }

  const bounded = <A>(request: Effect.Effect<A, { readonly message: string }>) =>
    request.pipe(Effect.timeoutFail({ duration: deadline, onTimeout: () => ({ message: `no answer within ${Duration.format(deadline)}` }) }), Effect.either)

  /** Applies one input, logs what changed, and returns the write the step asks for. */
  const feed = (input: ElectionInput) => Effect.gen(function* () {
    const before = yield* SubscriptionRef.get(state)
    const step = electionStep(before, input, yield* Clock.currentTimeMillis)
    yield* SubscriptionRef.set(state, step.state)
    const holder = step.state.observed?.record.holderIdentity
    if (holder !== before.observed?.record.holderIdentity && holder !== undefined && holder !== "") yield* transitions.inc({})
    if (step.state.leading && !before.leading) {
      yield* Effect.logInfo("became leader").pipe(Effect.annotateLogs({ ...where, transitions: step.state.observed?.record.leaseTransitions ?? 0 }))
    }
    if (step.lost !== undefined) yield* Effect.logWarning("lost the lease: stopped writing").pipe(Effect.annotateLogs({ ...where, reason: step.lost }))
    return step.write
  })

  const write = (request: LeaseWrite): Effect.Effect<Either.Either<Lease, { readonly message: string }>> => request._tag === "Create"
    ? bounded(api.createLease(settings.namespace, settings.name, request.record))
    : bounded(api.updateLease(settings.namespace, settings.name, request.record, request.resourceVersion))

  const written = (result: Either.Either<Lease, { readonly message: string }>): ElectionInput =>
    Either.match(result, { onLeft: (e) => ({ _tag: "Failed", reason: e.message }), onRight: (lease) => ({ _tag: "Written", lease }) })

  /** One round: read the lease, write when the step says so; returns whether this replica leads. */
  const round = Effect.gen(function* () {
    const read = yield* bounded(api.getLease(settings.namespace, settings.name))
    const request = yield* feed(Either.match(read, {
      onLeft: (e): ElectionInput => ({ _tag: "Failed", reason: e.message }),
      onRight: (lease): ElectionInput => ({ _tag: "Observed", lease })
    }))
    if (Either.isLeft(read)) yield* Effect.logDebug("cannot read the lease").pipe(Effect.annotateLogs({ ...where, error: read.left.message }))
    if (request !== undefined) yield* Effect.flatMap(write(request), (result) => feed(written(result)))
    return (yield* SubscriptionRef.get(state)).leading
  })

  const release = Effect.gen(function* () {
    const request = yield* feed({ _tag: "Release" })
    if (request === undefined) return
    const result = yield* write(request)
    if (Either.isRight(result)) yield* Effect.logInfo("released the lease").pipe(Effect.annotateLogs(where))
    else yield* Effect.logWarning("could not release the lease; it expires by itself").pipe(Effect.annotateLogs({ ...where, error: result.left.message }))
  })

  yield* Effect.addFinalizer(() => release)
  yield* Effect.forkScoped(Effect.repeat(round, electionRounds(settings.retryPeriod)).pipe(Effect.annotateLogs({ service: "LeaderElection" })))

  const isLeader = Effect.map(SubscriptionRef.get(state), (s) => s.leading)
  yield* (yield* Probes).add({
    status: Effect.map(SubscriptionRef.get(state), (s) => ({
      leader: { is_leader: s.leading, identity: settings.identity, holder: s.observed?.record.holderIdentity ?? null, transitions: s.observed?.record.leaseTransitions ?? 0, lease: where.lease }
    }))
  })
  yield* metrics.onScrape(Effect.flatMap(isLeader, (leading) => leaderGauge.set({}, leading ? 1 : 0)))
  return LeaderElection.of({ isLeader, leadership: Stream.changes(Stream.map(state.changes, (s) => s.leading)) })
})
