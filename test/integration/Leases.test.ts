/**
 * KubernetesApi's Lease requests against the API-server simulator over HTTP: the optimistic
 * concurrency and the MicroTime format a real API server enforces.
 */
import { describe, expect, it } from "@effect/vitest"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect } from "effect"
import { formatMicroTime, type LeaseRecord } from "../../src/domain/LeaderElection.js"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { simulator } from "../support/ApiServerSimulator.js"

const record = (holderIdentity: string, millis: number): LeaseRecord => ({
  holderIdentity, leaseDurationSeconds: 15, acquireTime: formatMicroTime(millis), renewTime: formatMicroTime(millis), leaseTransitions: 0
})

const apiFor = (kubeconfig: string) => {
  const config = new KubeConfig()
  config.loadFromString(kubeconfig)
  return Effect.provide(KubernetesApi, KubernetesApi.fromKubeConfig(config))
}

describe("Leases over HTTP", () => {
  it.live("create, read, and conditional update: a stale resourceVersion or a second create is a Conflict", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "t" })
      const api = yield* apiFor(sim.kubeconfig())
      expect(yield* api.getLease("agents", "pipeops-agent")).toBeUndefined()
      const created = yield* api.createLease("agents", "pipeops-agent", record("a_00000001", 1_000))
      expect(created.record.holderIdentity).toBe("a_00000001")
      expect(yield* api.getLease("agents", "pipeops-agent")).toEqual(created)
      const renewed = yield* api.updateLease("agents", "pipeops-agent", record("a_00000001", 3_000), created.resourceVersion)
      expect(renewed.resourceVersion).not.toBe(created.resourceVersion)
      const stale = yield* Effect.flip(api.updateLease("agents", "pipeops-agent", record("b_00000002", 4_000), created.resourceVersion))
      expect([stale.kind, stale.status]).toEqual(["Conflict", 409])
      const twice = yield* Effect.flip(api.createLease("agents", "pipeops-agent", record("b_00000002", 4_000)))
      expect(twice.kind).toBe("Conflict")
      expect(sim.store.leases.writes()).toEqual(["create agents/pipeops-agent a_00000001", "update agents/pipeops-agent a_00000001"])
    }).pipe(Effect.scoped))

  it.live("a MicroTime with three fractional digits is refused with 400, as a real API server does", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "t" })
      const api = yield* apiFor(sim.kubeconfig())
      const iso = new Date(1_000).toISOString()
      const error = yield* Effect.flip(api.createLease("agents", "pipeops-agent", { ...record("a", 0), acquireTime: iso, renewTime: iso }))
      expect([error.status, error.message]).toEqual([400, expect.stringContaining("spec.acquireTime")])
    }).pipe(Effect.scoped))
})
