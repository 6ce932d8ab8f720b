import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Option, Stream } from "effect"
import { ClusterDetector } from "../../src/gateway/ClusterDetector.js"
import { Probes } from "../../src/observability/Probes.js"
import { at, settle, startEngine } from "./support.js"

const publicLb = { lb: [{ ip: "203.0.113.45" }] }

describe("ClusterDetector", () => {
  it.scoped("a subscriber sees direct, then tunnel only once the grace period has passed", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ services: [publicLb], stopped: true, detector: { gracePeriod: Duration.seconds(60) } })
      const detector = yield* Effect.provide(ClusterDetector, t.context)
      const seen = yield* Stream.runCollect(Stream.take(detector.decisions, 2)).pipe(Effect.fork)
      yield* settle
      yield* t.upsertService({ lb: [{ ip: "10.0.0.5" }] })
      yield* at(59_998)
      expect(Option.map(yield* detector.current, (d) => d.routingMode)).toEqual(Option.some("direct"))
      yield* at(2)
      const decisions = Chunk.toReadonlyArray(yield* Fiber.join(seen))
      expect(decisions.map((d) => `${d.routingMode} ${d.publicEndpoint}`)).toEqual(["direct 203.0.113.45:80", "tunnel "])
    }))

  it.scoped("forcing direct without an endpoint is no decision: reported in readiness and by `first`", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ stopped: true, detector: { overrides: { routingMode: "direct" } } })
      const detector = yield* Effect.provide(ClusterDetector, t.context)
      expect(Either.isLeft(yield* detector.first)).toBe(true)
      expect(yield* detector.current).toEqual(Option.none())
      const reasons = yield* Effect.flatMap(Effect.provide(Probes, t.context), (p) => p.readiness)
      expect(reasons).toEqual(["no routing decision: routing_mode is direct but no public endpoint was detected or configured (public_endpoint)"])
    }))
})
