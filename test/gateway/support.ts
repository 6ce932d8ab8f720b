/**
 * The sync engine over the in-memory cluster and the recording controller, under TestClock.
 */
import { Duration, Effect, Layer, TestClock } from "effect"
import { selectAll } from "../../src/domain/IngressSelection.js"
import { ClusterCache } from "../../src/gateway/ClusterCache.js"
import { defaultRouteSyncSettings, RouteSync, type RouteSyncSettings } from "../../src/gateway/RouteSync.js"
import { defaultReflectorOptions } from "../../src/kubernetes/Reflector.js"
import { ingresses, services } from "../../src/kubernetes/Resources.js"
import { defaultBackoffPolicy } from "../../src/kubernetes/WatchBackoff.js"
import { backend, ingress, path, rule, service, type IngressInput, type ServiceInput } from "../support/Builders.js"
import { makeFakeKubernetes, type Fault } from "../support/FakeKubernetes.js"
import { makeRecordingController } from "../support/RecordingController.js"

export const settle = TestClock.adjust(Duration.millis(1))
export const at = (millis: number) => TestClock.adjust(Duration.millis(millis))

export interface EngineSetup {
  readonly ingresses?: ReadonlyArray<IngressInput>
  readonly services?: ReadonlyArray<ServiceInput>
  readonly listFaults?: { readonly services?: ReadonlyArray<Fault> }
  readonly watchFaults?: { readonly ingresses?: ReadonlyArray<Fault> }
  readonly settings?: Partial<RouteSyncSettings>
}

/** Starts the engine in the test's scope; returns the cluster and controller handles. */
export const startEngine = (setup: EngineSetup = {}) => Effect.gen(function* () {
  const { layer: kubernetes, control } = yield* makeFakeKubernetes()
  for (const input of setup.ingresses ?? []) control.store.upsert(ingresses, ingress(input))
  for (const input of setup.services ?? []) control.store.upsert(services, service(input))
  yield* control.inject("list", services, ...(setup.listFaults?.services ?? []))
  yield* control.inject("watch", ingresses, ...(setup.watchFaults?.ingresses ?? []))
  const controller = yield* makeRecordingController
  const settings: RouteSyncSettings = {
    ...defaultRouteSyncSettings, clusterUuid: "c-1", selection: selectAll, overrides: {}, ...setup.settings
  }
  const cache = ClusterCache.layer({ ...defaultReflectorOptions, watchTimeoutSeconds: [300, 300], backoff: { ...defaultBackoffPolicy, jitter: false } })
  const context = yield* Layer.build(RouteSync.layer(settings).pipe(Layer.provide(cache), Layer.provide(kubernetes), Layer.provide(controller.layer)))
  const engine = yield* Effect.provide(RouteSync, context)
  yield* settle
  const store = control.store
  return {
    engine, controller, control, store,
    upsert: (input: IngressInput) => Effect.sync(() => store.upsert(ingresses, ingress(input))),
    remove: (name: string, namespace = "default") => Effect.sync(() => store.remove(ingresses, namespace, name)),
    upsertService: (input: ServiceInput) => Effect.sync(() => store.upsert(services, service(input))),
    removeService: (name: string, namespace: string) => Effect.sync(() => store.remove(services, namespace, name))
  }
})

export { backend, path, rule }
