/**
 * KubernetesApi's configuration from the environment, against the API-server simulator.
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Stream } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { defaultReflectorOptions, makeReflector } from "../../src/kubernetes/Reflector.js"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { simulator } from "../support/ApiServerSimulator.js"
import { ingress } from "../support/Builders.js"

const withEnv = (entries: ReadonlyArray<readonly [string, string]>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))
const dir = mkdtempSync(join(tmpdir(), "kubeconfig-"))

describe("KubernetesApi.layerConfig", () => {
  it.live("loads the kubeconfig KUBECONFIG names and authenticates with its token", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "abc", kubeSystemUid: "cluster-1234" })
      const file = join(dir, "config")
      writeFileSync(file, sim.kubeconfig())
      const api = yield* KubernetesApi.pipe(Effect.provide(KubernetesApi.layerConfig.pipe(Layer.provide(withEnv([["KUBECONFIG", file]])))))
      expect(yield* api.namespaceUid("kube-system")).toBe("cluster-1234")
    }).pipe(Effect.scoped))

  it.effect("a kubeconfig with a syntax error is reported by line and column, without quoting its lines (they may hold a token)", () =>
    Effect.gen(function* () {
      const file = join(dir, "broken")
      writeFileSync(file, "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: super-secret-kube-token\n   bad: indentation\n")
      const error = yield* Effect.flip(KubernetesApi.pipe(Effect.provide(KubernetesApi.layerConfig.pipe(Layer.provide(withEnv([["KUBECONFIG", file]]))))))
      expect(String(error)).toContain("(7:4)")
      expect(String(error)).not.toContain("super-secret-kube-token")
    }))

  it.live("a kubeconfig token no header can carry fails requests with a typed error, never a defect", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "abc" })
      const file = join(dir, "bad-token")
      writeFileSync(file, sim.kubeconfig("abc\\r\\ninjected: x").replace(/token: (.*)/, (_, t: string) => `token: "${t}"`))
      const api = yield* KubernetesApi.pipe(Effect.provide(KubernetesApi.layerConfig.pipe(Layer.provide(withEnv([["KUBECONFIG", file]])))))
      const error = yield* Effect.flip(api.namespaceUid("kube-system"))
      expect([error._tag, error.kind]).toEqual(["KubernetesApiError", "Network"])
      expect(error.message).not.toContain("injected")
    }).pipe(Effect.scoped))

  it.effect("fails at start naming KUBECONFIG when the file cannot be loaded", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(KubernetesApi.pipe(Effect.provide(KubernetesApi.layerConfig.pipe(
        Layer.provide(withEnv([["KUBECONFIG", join(dir, "missing")]]))))))
      expect(String(error)).toContain("KUBECONFIG")
    }))

  it.live("a namespaced reflector sees only its namespace", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: "abc" })
      sim.store.upsert(ingresses, ingress({ name: "a", namespace: "team-a", host: "a.example.com" }))
      sim.store.upsert(ingresses, ingress({ name: "b", namespace: "team-b", host: "b.example.com" }))
      const file = join(dir, "namespaced")
      writeFileSync(file, sim.kubeconfig())
      const reflector = yield* makeReflector(ingresses, { ...defaultReflectorOptions, namespace: "team-a" }).pipe(
        Effect.provide(KubernetesApi.layerConfig.pipe(Layer.provide(withEnv([["KUBECONFIG", file]])))))
      const first = yield* Stream.runCollect(Stream.take(reflector.events, 2))
      expect([...first].map((e) => (e._tag === "Synced" ? "Synced" : `${e._tag} ${e.key}`))).toEqual(["Added team-a/a", "Synced"])
      expect(sim.requests()[0]).toBe("GET /apis/networking.k8s.io/v1/namespaces/team-a/ingresses?limit=500")
    }).pipe(Effect.scoped))
})
