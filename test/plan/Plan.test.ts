import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { selectAll } from "../../src/domain/IngressSelection.js"
import type { ManifestObject } from "../../src/plan/Manifests.js"
import { makePlan, sortObjects } from "../../src/plan/Plan.js"
import { ingress, ingressClass, service } from "../support/Builders.js"

const manifests = (...objects: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<ManifestObject> =>
  objects.map((object) => ({ source: "test.yaml", object }))

const namespace = (name: string, uid: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, uid } })

describe("sortObjects", () => {
  it("keeps the kinds extraction reads and ignores the rest", () => {
    const sorted = sortObjects(manifests(
      ingress({ host: "a.example.com" }), service(), ingressClass("nginx"),
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" } },
      { apiVersion: "extensions/v1beta1", kind: "Ingress", metadata: { name: "old" } }))
    expect([sorted.ingresses.length, sorted.services.length, sorted.ingressClasses.length]).toEqual([1, 1, 1])
    expect(sorted.warnings).toEqual([])
  })

  it("reports an Ingress that does not decode as skipped, and a bad Service as a warning", () => {
    const sorted = sortObjects(manifests(
      { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "bad", namespace: "x" }, spec: { rules: "nope" } },
      { apiVersion: "v1", kind: "Service", metadata: { name: "svc" }, spec: { ports: [{ port: "eighty" }] } }))
    expect(sorted.skipped.map((s) => `${s.ingress}: ${s.reason}`)).toEqual(["x/bad: invalid_object"])
    expect(sorted.warnings).toHaveLength(1)
    expect(sorted.warnings[0]).toMatch(/^test\.yaml: v1 Service default\/svc skipped: /)
  })

  it("finds the kube-system namespace's uid", () => {
    expect(sortObjects(manifests(namespace("default", "d"), namespace("kube-system", "k"))).kubeSystemUid).toBe("k")
  })
})

describe("makePlan", () => {
  const cluster = manifests(
    namespace("kube-system", "uid-1"),
    service({ lb: [{ ip: "203.0.113.45" }] }),
    ingress({ name: "b", host: "b.example.com" }),
    ingress({ name: "a", host: "a.example.com", annotations: { "pipeops.io/route-sync": "false" } }))

  it("prints detection, the sync body, register bodies and what was skipped", () => {
    const plan = Either.getOrThrow(makePlan(sortObjects(cluster), { selection: selectAll, overrides: {} }))
    expect(plan.detection).toEqual({ is_private: false, routing_mode: "direct", public_endpoint: "203.0.113.45:80" })
    expect(plan.sync).toMatchObject({ cluster_uuid: "uid-1", routing_mode: "direct", ingresses: [{ ingress_name: "b" }] })
    expect(plan.routes).toEqual([expect.objectContaining({ hostname: "b.example.com", cluster_uuid: "uid-1", public_endpoint: "203.0.113.45:80" })])
    expect(plan.skipped).toEqual([{ ingress: "default/a", reason: "opted_out", detail: expect.any(String) }])
  })

  it("applies overrides and the cluster UUID flag", () => {
    const plan = Either.getOrThrow(makePlan(sortObjects(cluster), {
      selection: { ...selectAll, namespaces: ["other"] }, overrides: { routingMode: "tunnel" }, clusterUuid: "given"
    }))
    expect(plan.detection).toEqual({ is_private: true, routing_mode: "tunnel", public_endpoint: "" })
    expect(plan.sync).toEqual({ cluster_uuid: "given", public_endpoint: "", routing_mode: "tunnel", ingresses: [] })
    expect(plan.routes).toEqual([])
  })

  it("fails when direct is forced without an endpoint", () => {
    const plan = makePlan(sortObjects(manifests(service())), { selection: selectAll, overrides: { routingMode: "direct" } })
    expect(Either.isLeft(plan)).toBe(true)
  })

  it("an unused label selector option is no filter", () => {
    const plan = Either.getOrThrow(makePlan(sortObjects(cluster), { selection: { ...selectAll, labelSelector: Option.none() }, overrides: {} }))
    expect(plan.routes).toHaveLength(1)
  })
})
