/**
 * The reflector against the in-memory cluster under TestClock: each way a list or watch fails
 * (refused, cut, garbled, expired, silent, endless) with its expected outcome.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Logger, Ref, Scope, Stream, TestClock } from "effect"
import type { CacheEvent } from "../../src/kubernetes/CacheEvent.js"
import { KubernetesApi } from "../../src/kubernetes/KubernetesApi.js"
import { initialStatus } from "../../src/kubernetes/ReflectorStatus.js"
import { watchNotAlive, watchNotReady } from "../../src/kubernetes/WatchObservability.js"
import type { WatchEvent } from "../../src/kubernetes/KubeObject.js"
import { defaultReflectorOptions, makeReflector, type ReflectorOptions } from "../../src/kubernetes/Reflector.js"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { defaultBackoffPolicy } from "../../src/kubernetes/WatchBackoff.js"
import { ingress } from "../support/Builders.js"
import { makeFakeKubernetes, type Fault } from "../support/FakeKubernetes.js"

const describeEvent = (event: CacheEvent): string => {
  switch (event._tag) {
    case "Synced":
      return "Synced"
    case "Deleted":
      return `Deleted ${event.key}${event.finalStateUnknown ? " (tombstone)" : ""}`
    default:
      return `${event._tag} ${event.key}`
  }
}

const options: ReflectorOptions = {
  ...defaultReflectorOptions,
  watchTimeoutSeconds: [300, 300],
  backoff: { ...defaultBackoffPolicy, jitter: false }
}

/** Lets every runnable fiber run without moving the clock far. */
const settle = TestClock.adjust(Duration.millis(1))
const at = (millis: number) => TestClock.adjust(Duration.millis(millis))

/** A reflector over a fake cluster holding `names`, with `faults` queued for its first requests. */
const setup = (names: ReadonlyArray<string>, faults: { readonly list?: ReadonlyArray<Fault>; readonly watch?: ReadonlyArray<Fault> } = {}, overrides: Partial<ReflectorOptions> = {}) =>
  Effect.gen(function* () {
    const { layer, control } = yield* makeFakeKubernetes()
    for (const name of names) control.store.upsert(ingresses, ingress({ name, host: `${name}.example.com` }))
    yield* control.inject("list", ingresses, ...(faults.list ?? []))
    yield* control.inject("watch", ingresses, ...(faults.watch ?? []))
    const reflector = yield* makeReflector(ingresses, { ...options, ...overrides }).pipe(Effect.provide(layer))
    const seen = yield* Ref.make<ReadonlyArray<string>>([])
    yield* Effect.forkScoped(Stream.runForEach(reflector.events, (e) => Ref.update(seen, (all) => [...all, describeEvent(e)])))
    yield* settle
    const add = (name: string) => Effect.sync(() => control.store.upsert(ingresses, ingress({ name, host: `${name}.example.com` })))
    const remove = (name: string) => Effect.sync(() => control.store.remove(ingresses, "default", name))
    return { control, reflector, seen: Ref.get(seen), add, remove, lists: control.count("list"), watches: control.count("watch") }
  })

describe("Reflector", () => {
  it.scoped("lists, emits every object then Synced, and watches from the list's version", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a", "b"])
      expect(yield* t.seen).toEqual(["Added default/a", "Added default/b", "Synced"])
      expect((yield* t.reflector.status).synced).toBe(true)
      expect(yield* t.control.requests).toEqual(["list ingresses rv= limit=500 continue=", "watch ingresses rv=1002"])
    }))

  it.scoped("pages a large list as one snapshot", () =>
    Effect.gen(function* () {
      const t = yield* setup(Array.from({ length: 1000 }, (_, i) => `ing-${String(i).padStart(4, "0")}`), {}, { pageSize: 100 })
      expect(yield* t.lists).toBe(10)
      const seen = yield* t.seen
      expect(seen.filter((e) => e.startsWith("Added"))).toHaveLength(1000)
      expect(seen.at(-1)).toBe("Synced")
    }))

  it.scoped("streams adds, updates and deletes in order, advancing the resourceVersion", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"])
      yield* t.add("b")
      yield* t.add("a")
      yield* t.remove("b")
      yield* settle
      expect(yield* t.seen).toEqual(["Added default/a", "Synced", "Added default/b", "Updated default/a", "Deleted default/b"])
      expect((yield* t.reflector.status).lastResourceVersion).toBe(t.control.store.revision())
    }))

  it.scoped("a clean close at the server's timeout re-watches from the last version: no relist, nothing lost", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "closeAfter", events: 1 }] })
      yield* t.add("b")
      yield* t.add("c")
      yield* t.add("d")
      yield* settle
      expect(yield* t.seen).toEqual(["Added default/a", "Synced", "Added default/b", "Added default/c", "Added default/d"])
      expect([yield* t.lists, yield* t.watches]).toEqual([1, 2])
      expect((yield* t.reflector.status).restarts).toEqual({ closed: 1 })
    }))

  it.scoped("the server's own timeout ends the watch and it is resumed at once", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"])
      yield* at(299_998)
      expect(yield* t.watches).toBe(1)
      yield* at(1)
      expect(yield* t.watches).toBe(2)
      expect(yield* t.lists).toBe(1)
    }))

  it.scoped("a watch closed right after its headers is very short: backoff and relist, never a hot loop", () =>
    Effect.gen(function* () {
      const closes = Array.from({ length: 100 }, (): Fault => ({ kind: "closeAfter", events: 0 }))
      const t = yield* setup(["a"], { watch: closes })
      yield* at(60_000)
      const watches = yield* t.watches
      // 0.8 + 1.6 + 3.2 + 6.4 + 12.8 + 25.6 s of backoff fit in a minute: seven watches.
      expect(watches).toBe(7)
      expect(yield* t.lists).toBe(watches)
      expect(yield* t.seen).toEqual(["Added default/a", "Synced"])
    }))

  it.scoped("410 in the stream relists exactly once; a delete missed meanwhile comes out as a tombstone", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a", "b"], { watch: [{ kind: "killAfter", events: 0 }] })
      yield* t.remove("b")
      t.control.store.compact()
      yield* at(800)
      yield* at(800)
      expect(yield* t.seen).toEqual(["Added default/a", "Added default/b", "Synced", "Deleted default/b (tombstone)"])
      expect(yield* t.lists).toBe(2)
      expect((yield* t.reflector.status).restarts).toEqual({ stream_failed: 1, expired: 1 })
    }))

  it.scoped("HTTP 410 on the watch request relists", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "status", status: 410 }] })
      yield* at(800)
      expect(yield* t.lists).toBe(2)
      expect((yield* t.reflector.status).restarts).toEqual({ expired: 1 })
    }))

  it.scoped("an ERROR 500 event backs off, then relists", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "errorEventAfter", events: 0, code: 500 }] })
      yield* at(798)
      expect(yield* t.lists).toBe(1)
      yield* at(1)
      expect(yield* t.lists).toBe(2)
    }))

  it.scoped("a watch killed mid-stream resumes from the last version without a relist and loses nothing", () =>
    Effect.gen(function* () {
      const t = yield* setup([], { watch: [{ kind: "killAfter", events: 1 }] })
      yield* t.add("a")
      yield* t.add("b")
      yield* t.add("c")
      yield* at(800)
      expect(yield* t.seen).toEqual(["Synced", "Added default/a", "Added default/b", "Added default/c"])
      expect(yield* t.lists).toBe(1)
      expect((yield* t.control.requests).at(-1)).toBe("watch ingresses rv=1001")
    }))

  it.scoped("a silent watch is replaced after 120 s without data; what changed meanwhile arrives", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "silent" }] })
      yield* t.add("b")
      yield* at(119_998)
      expect(yield* t.seen).toEqual(["Added default/a", "Synced"])
      yield* at(1)
      expect(yield* t.seen).toEqual(["Added default/a", "Synced", "Added default/b"])
      expect((yield* t.reflector.status).restarts).toEqual({ inactive: 1 })
      expect(yield* t.lists).toBe(1)
    }))

  it.scoped("a watch that never ends is replaced at timeoutSeconds + 30 s", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "endless" }] })
      yield* at(329_998)
      expect(yield* t.watches).toBe(1)
      yield* at(1)
      expect(yield* t.watches).toBe(2)
      expect((yield* t.reflector.status).restarts).toEqual({ deadline: 1 })
    }))

  it.scoped("a garbled line is a stream failure: resume from the last version, nothing dropped", () =>
    Effect.gen(function* () {
      const t = yield* setup([], { watch: [{ kind: "garbledAfter", events: 1 }] })
      yield* t.add("a")
      yield* t.add("b")
      yield* at(800)
      expect(yield* t.seen).toEqual(["Synced", "Added default/a", "Added default/b"])
      expect((yield* t.reflector.status).restarts).toEqual({ stream_failed: 1 })
    }))

  it.scoped("429 with Retry-After: 7 waits 7 s before the next watch", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "status", status: 429, retryAfterMillis: 7000 }] })
      yield* at(6_998)
      expect(yield* t.watches).toBe(1)
      yield* at(1)
      expect(yield* t.watches).toBe(2)
      expect(yield* t.lists).toBe(1)
    }))

  it.scoped("401 on the watch is reported while retried, and cleared once the watch is accepted", () =>
    Effect.gen(function* () {
      const unauthorized: Fault = { kind: "status", status: 401 }
      const t = yield* setup(["a"], { watch: [unauthorized, unauthorized, unauthorized] })
      const status = yield* t.reflector.status
      expect([status.condition, status.restarts]).toEqual(["Unauthorized", { watch_failed: 1 }])
      yield* at(800 + 1600 + 3200)
      expect((yield* t.reflector.status).condition).toBeUndefined()
      expect(yield* t.watches).toBe(4)
      expect(yield* t.lists).toBe(1)
    }))

  it.scoped("a watch refused with 403 for a while: one warning for the streak with its next try, not ready after 30 s though synced, one line when it recovers", () =>
    Effect.gen(function* () {
      const lines: Array<readonly [string, string]> = []
      const capture = Logger.make(({ message, logLevel }) => void lines.push([logLevel.label, String(message)]))
      const forbidden: Fault = { kind: "status", status: 403 }
      const t = yield* setup(["a"], { watch: Array(6).fill(forbidden) }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      const started = (yield* t.reflector.status).failingSince ?? -1
      expect(watchNotReady([yield* t.reflector.status], started + 29_999)).toEqual([])
      expect(watchNotReady([yield* t.reflector.status], started + 30_000)).toEqual([
        "ingresses not followed: failing for 30 s (Forbidden: HTTP 403)"])
      yield* at(800 + 1600 + 3200 + 6400 + 12_800 + 25_600)
      expect((yield* t.reflector.status).failingSince).toBeUndefined()
      expect(lines.filter(([level]) => level === "WARN")).toEqual([["WARN", "watch failed"]])
      expect(lines.filter(([, message]) => message === "watch recovered")).toHaveLength(1)
    }))

  it.scoped("a failing list is retried with backoff: not at 799 ms, at 800 ms", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { list: [{ kind: "status", status: 503 }] })
      expect((yield* t.reflector.status).synced).toBe(false)
      yield* at(798)
      expect(yield* t.lists).toBe(1)
      yield* at(1)
      expect(yield* t.lists).toBe(2)
      expect(yield* t.seen).toEqual(["Added default/a", "Synced"])
    }))

  it.scoped("events that arrive together with an ERROR are applied up to it, the rest is left to the relist", () =>
    Effect.gen(function* () {
      const added = (name: string, rv: string): WatchEvent => {
        const object = ingress({ name, host: `${name}.example.com` })
        return { type: "ADDED", object: { ...object, metadata: { ...Object(object["metadata"]), resourceVersion: rv } } }
      }
      const error: WatchEvent = { type: "ERROR", status: { code: 500, reason: "InternalError", message: "boom" } }
      const burst = Chunk.make(added("a", "11"), added("b", "12"), error, added("c", "13"))
      const watches = yield* Ref.make(0)
      const fake = yield* Effect.flatMap(makeFakeKubernetes(), ({ layer }) => Effect.provide(KubernetesApi, layer))
      const api = Layer.succeed(KubernetesApi, KubernetesApi.of({
        ...fake,
        list: () => Effect.succeed({ resourceVersion: "10", continueToken: undefined, items: [] }),
        watch: () => Ref.getAndUpdate(watches, (n) => n + 1).pipe(Effect.map((n) => (n === 0 ? Stream.fromChunk(burst) : Stream.never)))
      }))
      const reflector = yield* makeReflector(ingresses, options).pipe(Effect.provide(api))
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      yield* Effect.forkScoped(Stream.runForEach(reflector.events, (e) => Ref.update(seen, (all) => [...all, describeEvent(e)])))
      yield* settle
      expect(yield* Ref.get(seen)).toEqual(["Synced", "Added default/a", "Added default/b"])
      const status = yield* reflector.status
      expect([status.lastResourceVersion, status.events, status.restarts]).toEqual(["12", { ADDED: 2, ERROR: 1 }, { error_event: 1 }])
    }))

  it.effect("closing the scope stops the reflector quietly and ends its stream", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { layer } = yield* makeFakeKubernetes()
      const reflector = yield* makeReflector(ingresses, options).pipe(Effect.provide(layer), Scope.extend(scope))
      const consumer = yield* Effect.fork(Stream.runCollect(reflector.events))
      yield* settle
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Fiber.await(consumer)
      expect(Exit.isFailure(exit) && !Exit.isInterrupted(exit)).toBe(false)
    }))
})

describe("watch liveness", () => {
  it("a loop with no event, list or restart for 10 minutes is reported not alive", () => {
    const quiet = { ...initialStatus("ingresses"), synced: true, lastProgressAt: 0 }
    expect(watchNotAlive([quiet], 600_000)).toEqual([])
    expect(watchNotAlive([quiet], 600_001)).toEqual(["ingresses watch loop made no progress for 10 min"])
    expect(watchNotAlive([{ ...quiet, lastProgressAt: undefined }], 10_000_000)).toEqual([])
  })

  it.scoped("a silent watch still makes progress: the watchdog's restarts count", () =>
    Effect.gen(function* () {
      const t = yield* setup(["a"], { watch: [{ kind: "silent" }, { kind: "silent" }, { kind: "silent" }, { kind: "silent" }, { kind: "silent" }, { kind: "silent" }] })
      yield* at(11 * 60_000)
      expect(watchNotAlive([yield* t.reflector.status], 11 * 60_000 + 1)).toEqual([])
    }))
})
