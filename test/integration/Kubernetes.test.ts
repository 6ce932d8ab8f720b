/**
 * The live KubernetesApi and Reflector against the API-server simulator on loopback, and the
 * simulator's fidelity checked with the real `@kubernetes/client-node` (and kubectl, if present).
 */
import { CoreV1Api, KubeConfig, NetworkingV1Api, Watch } from "@kubernetes/client-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Ref, Scope, Stream } from "effect"
import { execFile, spawnSync } from "node:child_process"
import { promisify } from "node:util"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { defaultReflectorOptions, makeReflector, type ReflectorOptions } from "../../src/kubernetes/Reflector.js"
import { ingresses, services } from "../../src/kubernetes/Resources.js"
import { ingress, service } from "../support/Builders.js"
import { eventually } from "../support/Eventually.js"
import { simulator, type Simulator } from "../support/ApiServerSimulator.js"
import { makeClusterStore } from "../support/ClusterStore.js"

const execFileAsync = promisify(execFile)
const token = "sim-token"
const kubeConfigOf = (sim: Simulator, bearer = token) => {
  const config = new KubeConfig()
  config.loadFromString(sim.kubeconfig(bearer))
  return config
}

const fast: ReflectorOptions = {
  ...defaultReflectorOptions,
  pageSize: 100,
  inactivity: Duration.seconds(2),
  backoff: { initial: Duration.millis(50), cap: Duration.millis(200), jitter: false, resetAfter: Duration.minutes(2) }
}

/** A live reflector over the simulator; `keys` is the consumer's view of the cache. */
const reflect = (sim: Simulator, options: ReflectorOptions = fast, bearer = token, requestTimeout = Duration.seconds(60)) => Effect.gen(function* () {
  const reflector = yield* makeReflector(ingresses, options).pipe(Effect.provide(KubernetesApi.fromKubeConfig(kubeConfigOf(sim, bearer), requestTimeout)))
  const keys = yield* Ref.make<ReadonlyMap<string, string>>(new Map())
  const log = yield* Ref.make<ReadonlyArray<string>>([])
  yield* Effect.forkScoped(Stream.runForEach(reflector.events, (event) => Effect.gen(function* () {
    if (event._tag === "Synced") return yield* Ref.update(log, (l) => [...l, "Synced"])
    const host = JSON.stringify(event.object["spec"] ?? {})
    yield* Ref.update(log, (l) => [...l, `${event._tag} ${event.key}`])
    yield* Ref.update(keys, (m) => {
      const next = new Map(m)
      if (event._tag === "Deleted") next.delete(event.key)
      else next.set(event.key, host)
      return next
    })
  })))
  return { reflector, keys: Ref.get(keys), log: Ref.get(log) }
})

const add = (sim: Simulator, name: string, host = `${name}.example.com`) => Effect.sync(() => sim.store.upsert(ingresses, ingress({ name, host })))
const size = (n: number) => (m: ReadonlyMap<string, string>) => m.size === n

describe("requests that are accepted and never answered", () => {
  it.live("a hung first LIST, then a hung relist after a 410: each fails at its deadline and is retried; nothing is lost", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token })
      yield* add(sim, "a")
      sim.inject("list", ingresses, { kind: "hang" })
      // Watches of one second: the next one meets the 410 and its relist hangs.
      const t = yield* reflect(sim, { ...fast, watchTimeoutSeconds: [1, 1] }, token, Duration.millis(300))
      yield* eventually(t.keys, size(1), 5_000)
      expect((yield* t.reflector.status).restarts).toMatchObject({ list_failed: 1 })
      sim.inject("watch", ingresses, { kind: "errorEvent", code: 410 })
      sim.inject("list", ingresses, { kind: "hang" })
      yield* add(sim, "b")
      const keys = yield* eventually(Effect.zip(t.keys, t.reflector.status), ([k, s]) => k.size === 2 && s.restarts.list_failed === 2, 8_000)
      expect([...keys[0].keys()].sort()).toEqual(["default/a", "default/b"])
      expect(keys[1].restarts).toMatchObject({ expired: 1, list_failed: 2 })
    }).pipe(Effect.scoped), 20_000)
})

describe("API-server simulator fidelity (real @kubernetes/client-node)", () => {
  it.live("serves client-node's generated list calls and its Watch", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token })
      sim.store.upsert(ingresses, ingress({ name: "a", host: "a.example.com" }))
      sim.store.upsert(services, service())
      const config = kubeConfigOf(sim)
      const listed = yield* Effect.promise(() => config.makeApiClient(NetworkingV1Api).listIngressForAllNamespaces())
      expect(listed.items.map((i) => i.metadata?.name)).toEqual(["a"])
      expect(listed.metadata?.resourceVersion).toBe(sim.store.revision())
      const svc = yield* Effect.promise(() => config.makeApiClient(CoreV1Api).listServiceForAllNamespaces())
      expect(svc.items.map((s) => s.spec?.type)).toEqual(["LoadBalancer"])
      const seen: Array<string> = []
      const controller = yield* Effect.promise(() => new Watch(config).watch("/apis/networking.k8s.io/v1/ingresses",
        { resourceVersion: listed.metadata?.resourceVersion ?? "" }, (type, object: { metadata: { name: string } }) => seen.push(`${type} ${object.metadata.name}`), () => undefined))
      yield* add(sim, "b")
      yield* Effect.sync(() => sim.store.remove(ingresses, "default", "a"))
      yield* eventually(Effect.sync(() => seen.length), (n) => n === 2)
      controller.abort()
      expect(seen).toEqual(["ADDED b", "DELETED a"])
    }).pipe(Effect.scoped))

  it.live.skipIf(spawnSync("kubectl", ["version", "--client"]).status !== 0)("answers kubectl get --raw", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token, anonymous: true })
      sim.store.upsert(ingresses, ingress({ name: "a", host: "a.example.com" }))
      // Asynchronously: a synchronous spawn would block the simulator kubectl talks to.
      const { stdout } = yield* Effect.promise(() => execFileAsync("kubectl", [
        "--server", sim.url, "get", "--raw", "/apis/networking.k8s.io/v1/ingresses"
      ]))
      expect(JSON.parse(stdout).items[0].metadata.name).toBe("a")
    }).pipe(Effect.scoped))

  it.live("answers 401 with a Status and unknown paths with a text 404", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token })
      const unauthorized = yield* Effect.promise(() => fetch(`${sim.url}/api/v1/services`))
      expect([unauthorized.status, (yield* Effect.promise(() => unauthorized.json() as Promise<{ reason: string }>)).reason]).toEqual([401, "Unauthorized"])
      const missing = yield* Effect.promise(() => fetch(`${sim.url}/apis/example.com/v1/widgets`, { headers: { authorization: `Bearer ${token}` } }))
      expect([missing.status, yield* Effect.promise(() => missing.text())]).toEqual([404, "404 page not found\n"])
    }).pipe(Effect.scoped))
})

describe("Reflector over HTTP", () => {
  it.live("pages 1,000 objects and sees a burst of 500 updates in order", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token, splitEvents: true })
      for (let i = 0; i < 1000; i++) sim.store.upsert(ingresses, ingress({ name: `ing-${i}`, host: `h${i}.example.com` }))
      const t = yield* reflect(sim)
      yield* t.reflector.synced
      expect(sim.requests().filter((r) => r.includes("limit=100"))).toHaveLength(10)
      for (let i = 0; i < 500; i++) sim.store.upsert(ingresses, ingress({ name: "burst", host: `v${i}.example.com` }))
      const log = yield* eventually(t.log, (l) => l.length === 1001 + 500)
      expect(log.slice(1001)).toEqual(["Added default/burst", ...Array.from({ length: 499 }, () => "Updated default/burst")])
      expect((yield* t.keys).get("default/burst")).toContain("v499.example.com")
    }).pipe(Effect.scoped), 30_000)

  it.live.each([
    ["close right after the headers", { kind: "closeAfter", events: 0 }],
    ["kill mid-stream", { kind: "killAfter", events: 1 }],
    ["a garbled line", { kind: "garbled" }],
    ["a garbled line right after two events", { kind: "garbledAfter", events: 2 }],
    ["410 in the stream", { kind: "errorEvent", code: 410 }],
    ["500 in the stream", { kind: "errorEvent", code: 500 }],
    ["410 as the HTTP status", { kind: "status", status: 410 }],
    ["429 with Retry-After", { kind: "status", status: 429, retryAfterSeconds: 1 }],
    ["503", { kind: "status", status: 503 }],
    ["latency before the headers", { kind: "delay", millis: 300 }],
    ["a silent watch", { kind: "silent" }]
  ] as const)("recovers from %s without losing a change", ([, fault]) =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token, bookmarkMillis: 500 })
      yield* add(sim, "a")
      yield* add(sim, "b")
      sim.inject("watch", ingresses, fault)
      const t = yield* reflect(sim)
      yield* t.reflector.synced
      yield* add(sim, "c")
      yield* add(sim, "d")
      yield* Effect.sync(() => sim.store.remove(ingresses, "default", "a"))
      const keys = yield* eventually(t.keys, size(3), 10_000)
      expect([...keys.keys()].sort()).toEqual(["default/b", "default/c", "default/d"])
    }).pipe(Effect.scoped), 20_000)

  it.live("a delete missed while the history was compacted comes out after the relist", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token })
      yield* add(sim, "a")
      yield* add(sim, "b")
      sim.inject("watch", ingresses, { kind: "killAfter", events: 0 }, { kind: "delay", millis: 200 })
      const t = yield* reflect(sim)
      yield* t.reflector.synced
      yield* Effect.sync(() => {
        sim.store.remove(ingresses, "default", "a")
        sim.store.compact()
      })
      yield* eventually(t.keys, size(1), 10_000)
      expect(yield* t.log).toContain("Deleted default/a")
    }).pipe(Effect.scoped), 20_000)

  it.live("401 is reported while the reflector keeps retrying", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token })
      const t = yield* reflect(sim, fast, "wrong-token")
      const status = yield* eventually(t.reflector.status, (s) => s.condition === "Unauthorized")
      expect(status.synced).toBe(false)
      yield* Effect.sleep(Duration.millis(500))
      expect(sim.requests().length).toBeGreaterThan(2)
    }).pipe(Effect.scoped), 20_000)

  it.live("survives the simulator restarting with new resourceVersions", () =>
    Effect.gen(function* () {
      const store = makeClusterStore(5000)
      const first = yield* Scope.make()
      const sim = yield* simulator({ token, store }).pipe(Scope.extend(first))
      yield* add(sim, "a")
      const t = yield* reflect(sim)
      yield* t.reflector.synced
      yield* Scope.close(first, Exit.void)
      store.rebase(10)
      store.remove(ingresses, "default", "a")
      store.upsert(ingresses, ingress({ name: "z", host: "z.example.com" }))
      yield* simulator({ token, store, port: sim.port })
      const keys = yield* eventually(t.keys, (m) => m.has("default/z") && !m.has("default/a"), 10_000)
      expect([...keys.keys()]).toEqual(["default/z"])
    }).pipe(Effect.scoped), 20_000)
})

