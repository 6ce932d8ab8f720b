/**
 * Two replicas of the agent on one in-memory cluster and one recording controller, under
 * TestClock: one leader writes; a crash or a graceful stop hands over; never do both write.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Option, Scope, TestClock } from "effect"
import { agentLayer, observabilityLayer } from "../../src/cli/Agent.js"
import { selectAll } from "../../src/domain/IngressSelection.js"
import { watchEverything } from "../../src/gateway/ClusterCache.js"
import { LeaderElection } from "../../src/election/LeaderElection.js"
import { defaultRouteSyncSettings } from "../../src/gateway/RouteSync.js"
import { defaultReflectorOptions } from "../../src/kubernetes/Reflector.js"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { ingress } from "../support/Builders.js"
import { makeClusterStore, type ClusterStore } from "../support/ClusterStore.js"
import { makeFakeKubernetes } from "../support/FakeKubernetes.js"
import { makeRecordingController, type Call } from "../support/RecordingController.js"

const election = { namespace: "agents", name: "pipeops-agent", leaseDuration: Duration.seconds(15), renewDeadline: Duration.seconds(10), retryPeriod: Duration.seconds(2) }
const at = (millis: number) => TestClock.adjust(Duration.millis(millis))

type Controller = Effect.Effect.Success<typeof makeRecordingController>

/**
 * One replica in its own scope: `stop` is a graceful stop; `sever` cuts it off from the API server
 * while it keeps running; `kill` severs and stops, so it can release nothing.
 */
const replica = (store: ClusterStore, controller: Controller, id: string, heartbeatInterval = Duration.seconds(30)) => Effect.gen(function* () {
  const { layer: kubernetes, control } = yield* makeFakeKubernetes(store)
  const scope = yield* Scope.make()
  const layer = agentLayer({
    clusterUuid: "c-1", agentId: id, heartbeatInterval, election: Option.some(election),
    reflector: { ...defaultReflectorOptions, watchTimeoutSeconds: [300, 300] }, watchScope: watchEverything,
    detector: { overrides: {}, gracePeriod: Duration.seconds(60) },
    routeSync: { ...defaultRouteSyncSettings, selection: selectAll }
  }).pipe(Layer.provide(Layer.mergeAll(kubernetes, controller.layerAs(id), observabilityLayer(false))))
  const context = yield* Layer.buildWithScope(layer, scope)
  const leading = Effect.flatMap(Effect.provide(LeaderElection, context), (e) => e.isLeader)
  return { id, leading, stop: Scope.close(scope, Exit.void), sever: control.sever, kill: Effect.zipRight(control.sever, Scope.close(scope, Exit.void)) }
})

const writers = (calls: ReadonlyArray<Call>) => [...new Set(calls.map((c) => c.agent))]

/** Two replicas; returns them once one leads, leader first. */
const pair = (heartbeatInterval?: Duration.Duration) => Effect.gen(function* () {
  const store = makeClusterStore()
  store.upsert(ingresses, ingress({ name: "a", host: "a.example.com" }))
  const controller = yield* makeRecordingController
  const a = yield* replica(store, controller, "a_00000001", heartbeatInterval)
  const b = yield* replica(store, controller, "b_00000002", heartbeatInterval)
  yield* at(10)
  const [leader, follower] = (yield* a.leading) ? [a, b] : [b, a]
  return { store, controller, leader, follower }
})

describe("two replicas", () => {
  it.scoped("exactly one leads and only it writes: its initial sync and its heartbeat", () =>
    Effect.gen(function* () {
      const t = yield* pair()
      expect([yield* t.leader.leading, yield* t.follower.leading]).toEqual([true, false])
      yield* at(40_000)
      const calls = yield* t.controller.calls
      expect(writers(calls)).toEqual([t.leader.id])
      expect(calls.map((c) => c.operation)).toEqual(["sync", "heartbeat", "heartbeat"])
      expect(t.store.leases.writes()[0]).toBe(`create agents/pipeops-agent ${t.leader.id}`)
    }))

  // The follower reads every 2 to 4.4 s (client-go's jitter): it sees the lease's last change at
  // most 4.4 s late, and takes the lease at its first read once that change is 15 s old.
  it.scoped("a crashed leader is replaced once its lease has not changed for 15 s by the follower's clock; a change made meanwhile is synced by the new one", () =>
    Effect.gen(function* () {
      const t = yield* pair()
      yield* t.leader.kill
      t.store.upsert(ingresses, ingress({ name: "b", host: "b.example.com" }))
      yield* at(14_980)
      expect(yield* t.follower.leading).toBe(false)
      yield* at(24_000 - 14_990)
      expect(yield* t.follower.leading).toBe(true)
      yield* at(10)
      const calls = yield* t.controller.calls
      const takeover = calls.findIndex((c) => c.agent === t.follower.id)
      expect(calls.slice(takeover).every((c) => c.agent === t.follower.id)).toBe(true)
      expect(calls[takeover]).toMatchObject({ operation: "sync", summary: "a.example.com /,b.example.com /" })
    }))

  it.scoped("a graceful stop releases the lease: the follower leads within one of its rounds, and the old leader writes nothing after", () =>
    Effect.gen(function* () {
      const t = yield* pair()
      yield* t.leader.stop
      expect(t.store.leases.writes().at(-1)).toBe("update agents/pipeops-agent ")
      yield* at(4_400)
      expect(yield* t.follower.leading).toBe(true)
      yield* at(10)
      const calls = yield* t.controller.calls
      const takeover = calls.findIndex((c) => c.agent === t.follower.id)
      expect(takeover).toBeGreaterThan(0)
      expect(calls.slice(takeover).every((c) => c.agent === t.follower.id)).toBe(true)
      const lease = t.store.leases.get("agents", "pipeops-agent")
      expect([lease?.spec["holderIdentity"], lease?.spec["leaseTransitions"]]).toEqual([t.follower.id, 1])
    }))

  it.scoped("a leader cut off from the API server stops writing at the renew deadline, before the follower can take over", () =>
    Effect.gen(function* () {
      // Heartbeats every 3 s: a leader that did not step down would keep sending them.
      const t = yield* pair(Duration.seconds(3))
      yield* t.leader.sever
      yield* at(9_980)
      expect(yield* t.leader.leading).toBe(true)
      yield* at(2_100)
      expect([yield* t.leader.leading, yield* t.follower.leading]).toEqual([false, false])
      yield* at(12_000)
      expect(yield* t.follower.leading).toBe(true)
      const calls = yield* t.controller.calls
      const lastOfOld = Math.max(...calls.filter((c) => c.agent === t.leader.id).map((c) => c.at))
      const firstOfNew = Math.min(...calls.filter((c) => c.agent === t.follower.id).map((c) => c.at))
      expect(calls.filter((c) => c.agent === t.leader.id && c.operation === "heartbeat").length).toBeGreaterThanOrEqual(3)
      expect(lastOfOld).toBeLessThan(10_010)
      expect(firstOfNew).toBeGreaterThan(lastOfOld)
    }))
})
