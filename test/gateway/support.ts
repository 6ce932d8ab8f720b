/**
 * The sync engine over the in-memory cluster and the recording controller, under TestClock.
 */
import { Duration, Effect, Layer, Option, TestClock } from "effect"
import { selectAll } from "../../src/domain/IngressSelection.js"
import { observabilityLayer, watchingLayer } from "../../src/cli/Agent.js"
import { watchEverything } from "../../src/gateway/ClusterCache.js"
import type { DetectorSettings } from "../../src/gateway/ClusterDetector.js"
import { Heartbeat, type HeartbeatSettings } from "../../src/gateway/Heartbeat.js"
import { defaultRouteSyncSettings, RouteSync, type RouteSyncSettings } from "../../src/gateway/RouteSync.js"
import { defaultReflectorOptions } from "../../src/kubernetes/Reflector.js"
import { gateways, ingresses, services } from "../../src/kubernetes/Resources.js"
import { defaultBackoffPolicy } from "../../src/kubernetes/WatchBackoff.js"
import type { Tunnel } from "../../src/tunnel/Tunnel.js"
import { backend, ingress, path, rule, service, type IngressInput, type ServiceInput } from "../support/Builders.js"
import { makeFakeKubernetes, type Fault } from "../support/FakeKubernetes.js"
import { makeRecordingController } from "../support/RecordingController.js"

export const settle = TestClock.adjust(Duration.millis(1))
export const at = (millis: number) => TestClock.adjust(Duration.millis(millis))

export interface EngineSetup {
  readonly ingresses?: ReadonlyArray<IngressInput>
  readonly services?: ReadonlyArray<ServiceInput>
  readonly listFaults?: { readonly services?: ReadonlyArray<Fault>; readonly gateways?: ReadonlyArray<Fault> }
  /** Discovery says the Gateway API is served from the start. */
  readonly gatewayApi?: boolean
  readonly watchFaults?: { readonly ingresses?: ReadonlyArray<Fault> }
  readonly settings?: Partial<RouteSyncSettings>
  readonly detector?: Partial<DetectorSettings>
  /** Leave the engine stopped (a follower); the test starts it. */
  readonly stopped?: boolean
  /** Run the heartbeat too (started with the engine). */
  readonly heartbeat?: Partial<HeartbeatSettings>
  /** How often the cache asks whether the Gateway API is served (default 5 minutes). */
  readonly discoveryInterval?: Duration.Duration
  /** The tunnel the engine follows (default: none). */
  readonly tunnel?: Layer.Layer<Tunnel>
}

/** Starts the engine in the test's scope; returns the cluster and controller handles. */
export const startEngine = (setup: EngineSetup = {}) => Effect.gen(function* () {
  const { layer: kubernetes, control } = yield* makeFakeKubernetes()
  for (const input of setup.ingresses ?? []) control.store.upsert(ingresses, ingress(input))
  for (const input of setup.services ?? []) control.store.upsert(services, service(input))
  yield* control.inject("list", services, ...(setup.listFaults?.services ?? []))
  yield* control.inject("list", gateways, ...(setup.listFaults?.gateways ?? []))
  if (setup.gatewayApi === true) yield* control.serveGatewayApi(true)
  yield* control.inject("watch", ingresses, ...(setup.watchFaults?.ingresses ?? []))
  const controller = yield* makeRecordingController
  const settings: RouteSyncSettings = { ...defaultRouteSyncSettings, selection: selectAll, ...setup.settings }
  const base = watchingLayer({
    clusterUuid: "c-1", watchScope: watchEverything,
    reflector: { ...defaultReflectorOptions, watchTimeoutSeconds: [300, 300], backoff: { ...defaultBackoffPolicy, jitter: false } },
    detector: { overrides: {}, gracePeriod: Duration.seconds(60), ...setup.detector },
    tunnel: setup.tunnel,
    discoveryInterval: setup.discoveryInterval
  }).pipe(Layer.provideMerge(Layer.mergeAll(observabilityLayer(false), controller.layer, kubernetes)))
  const heartbeat = Heartbeat.layer({
    clusterUuid: "c-1", agentId: "agent-a_00000001", interval: Duration.seconds(30), ...setup.heartbeat
  })
  const context = yield* Layer.build(heartbeat.pipe(Layer.provideMerge(RouteSync.layer(settings)), Layer.provideMerge(base)))
  const engine = yield* Effect.provide(RouteSync, context)
  if (setup.stopped !== true) yield* engine.start
  if (setup.heartbeat !== undefined) yield* Effect.flatMap(Effect.provide(Heartbeat, context), (h) => h.start)
  yield* settle
  const store = control.store
  return {
    engine, controller, control, store, context,
    /** The running engine's status (fails the test when it does not run). */
    status: Effect.map(engine.status, Option.getOrThrow),
    upsert: (input: IngressInput) => Effect.sync(() => store.upsert(ingresses, ingress(input))),
    remove: (name: string, namespace = "default") => Effect.sync(() => store.remove(ingresses, namespace, name)),
    upsertService: (input: ServiceInput) => Effect.sync(() => store.upsert(services, service(input))),
    removeService: (name: string, namespace: string) => Effect.sync(() => store.remove(services, namespace, name))
  }
})

export { backend, path, rule }
