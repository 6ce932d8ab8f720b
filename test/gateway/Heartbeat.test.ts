import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Logger } from "effect"
import { ControllerUnavailable } from "../../src/controller/ControllerError.js"
import { version } from "../../src/Version.js"
import { at, backend, path, rule, settle, startEngine } from "./support.js"

const web = (name: string, host: string, ...paths: ReadonlyArray<string>) =>
  ({ name, rules: [rule(host, ...(paths.length === 0 ? ["/"] : paths).map((p) => path(p, backend("web", 80))))] })

describe("Heartbeat", () => {
  it.scoped("nothing before the initial sync; the first right after it, with every field", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ stopped: true, heartbeat: {}, ingresses: [web("a", "a.example.com", "/", "/x")] })
      yield* t.controller.setLatencyOf((operation) => (operation === "sync" ? Duration.seconds(1) : Duration.zero))
      yield* t.engine.start
      yield* at(999)
      expect(yield* t.controller.heartbeats).toEqual([])
      yield* at(1)
      expect(yield* t.controller.heartbeats).toEqual(["1001 tunnel 2"])
      const [call] = (yield* t.controller.calls).filter((c) => c.operation === "heartbeat")
      expect(call?.body).toEqual({
        cluster_uuid: "c-1", agent_id: "agent-a_00000001", agent_version: version, k8s_version: "v1.31.0", status: "healthy",
        tunnel_status: "disconnected", metadata: { is_private: true, gateway_routes: 2, routing_mode: "tunnel", public_endpoint: "" }
      })
    }))

  it.scoped("the next comes 30 s later, ±10 %: none before 27 s, one by 33 s", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ heartbeat: {} })
      const first = Number((yield* t.controller.heartbeats)[0]?.split(" ")[0])
      yield* at(26_999)
      expect(yield* t.controller.heartbeats).toHaveLength(1)
      yield* at(6_002)
      const beats = yield* t.controller.heartbeats
      expect(beats).toHaveLength(2)
      const gap = Number(beats[1]?.split(" ")[0]) - first
      expect(gap).toBeGreaterThanOrEqual(27_000)
      expect(gap).toBeLessThanOrEqual(33_000)
    }))

  it.scoped("its fields follow a route count change and a mode switch", () =>
    Effect.gen(function* () {
      const t = yield* startEngine({ heartbeat: {}, ingresses: [web("a", "a.example.com")] })
      yield* t.upsert(web("b", "b.example.com", "/", "/api"))
      yield* t.upsertService({ lb: [{ ip: "203.0.113.45" }] })
      yield* at(34_000)
      const last = (yield* t.controller.calls).filter((c) => c.operation === "heartbeat").at(-1)
      expect(last?.body).toMatchObject({
        tunnel_status: "not_used", metadata: { is_private: false, gateway_routes: 3, routing_mode: "direct", public_endpoint: "203.0.113.45:80" }
      })
    }))

  it.scoped("a heartbeat that hangs or fails never delays a register; one warning per failure streak, one line when it recovers", () =>
    Effect.gen(function* () {
      const messages: Array<string> = []
      const capture = Logger.make(({ message }) => void messages.push(String(message)))
      const t = yield* startEngine({ stopped: true, heartbeat: {} }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      yield* t.controller.setLatencyOf((operation) => (operation === "heartbeat" ? Duration.minutes(10) : Duration.zero))
      yield* t.engine.start
      yield* settle
      yield* t.upsert(web("a", "a.example.com"))
      yield* settle
      expect(yield* t.controller.lines).toEqual(["sync ", "register a.example.com /"])
      yield* t.controller.setLatencyOf(() => Duration.zero)
      yield* t.controller.setScript((operation) => operation === "heartbeat" ? new ControllerUnavailable({ operation, status: 503, reason: "down" }) : undefined)
      yield* at(11 * 60_000)
      yield* t.controller.setScript(() => undefined)
      yield* at(40_000)
      const failed = messages.filter((m) => m.startsWith("heartbeat failed")).length
      expect([failed, messages.filter((m) => m === "heartbeat recovered").length]).toEqual([1, 1])
    }))
})
