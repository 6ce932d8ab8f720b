import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import type { RoutingDecision } from "../../src/domain/ClusterMode.js"
import { initialEngineState, statusOf, type EngineSettings, type EngineState } from "../../src/domain/EngineState.js"
import type { Route } from "../../src/domain/Route.js"
import { step, type CallFailure, type EngineCall, type EngineInput } from "../../src/domain/SyncEngine.js"
import { route } from "../support/Builders.js"

const settings: EngineSettings = { concurrency: 2, orphanSyncDelay: 30_000, retryDelays: [1_000, 2_000, 4_000], authRetry: 30_000 }
const direct: RoutingDecision = { routingMode: "direct", publicEndpoint: "203.0.113.45:80", isPrivate: false, ingressService: Option.none(), upstream: Option.none() }
const tunnel: RoutingDecision = { routingMode: "tunnel", publicEndpoint: "", isPrivate: true, ingressService: Option.none(), upstream: Option.none() }
const down: CallFailure = { message: "controller register unavailable: status 503", auth: false }
const refused: CallFailure = { message: "controller refused the token", auth: true }

const desired = (...hosts: ReadonlyArray<readonly [string, ReadonlyArray<Route>]>): EngineInput => ({ _tag: "Desired", hosts })
const start: EngineInput = { _tag: "Start" }
const tick: EngineInput = { _tag: "Tick" }
const decide = (decision: RoutingDecision): EngineInput => ({ _tag: "Decision", decision })

/** A call as a line: `sync#1 a/,b/x tunnel` or `host#4 a -unregister +/x`. */
const line = (call: EngineCall): string =>
  call._tag === "Sync"
    ? `sync#${call.ticket} ${call.routes.map((r) => `${r.hostname}${r.path}`).sort().join(",")} ${call.decision.routingMode}`
    : `host#${call.ticket} ${call.hostname}${call.unregister ? " -unregister" : ""}${call.routes.map((r) => ` +${r.path}`).join("")}`

/** Feeds `inputs` at their times; returns the state and every call made, as `t line`. */
const drive = (inputs: ReadonlyArray<readonly [number, EngineInput]>, from: EngineState = initialEngineState(settings)) => {
  let state = from
  const calls: Array<string> = []
  for (const [now, input] of inputs) {
    const result = step(state, input, now)
    state = result.state
    calls.push(...result.calls.map((call) => `${now} ${line(call)}`))
  }
  return { state, calls }
}

const ok = (ticket: number, routes: ReadonlyArray<Route>, conflicts: ReadonlyArray<string> = []): EngineInput =>
  ({ _tag: "SyncDone", ticket, result: { _tag: "Ok", routes, conflicts } })
const done = (ticket: number, hostname: string, registered: ReadonlyArray<Route>, extra: Partial<Extract<EngineInput, { _tag: "HostDone" }>> = {}): EngineInput =>
  ({ _tag: "HostDone", ticket, hostname, unregistered: false, registered, conflict: false, failure: undefined, ...extra })

const a = route("a.example.com")
const ax = route("a.example.com", "/x")
const b = route("b.example.com")
const c = route("c.example.com")

/** A started engine in direct mode whose initial sync of `routes` succeeded (ticket 0). */
const synced = (routes: ReadonlyArray<Route>, conflicts: ReadonlyArray<string> = []) => {
  const hosts = [...new Set(routes.map((r) => r.hostname))].map((h) => [h, routes.filter((r) => r.hostname === h)] as const)
  return drive([[0, desired(...hosts)], [0, decide(direct)], [0, start], [0, ok(0, routes, conflicts)]]).state
}

describe("SyncEngine.step: startup", () => {
  it.each([
    { title: "nothing before Start", inputs: [[0, desired(["a.example.com", [a]])], [0, decide(direct)]] as const, calls: [] },
    { title: "nothing before a decision", inputs: [[0, desired(["a.example.com", [a]])], [0, start]] as const, calls: [] },
    { title: "one sync of every desired route once started with a decision",
      inputs: [[0, desired(["a.example.com", [a, ax]], ["b.example.com", [b]])], [5, start], [7, decide(tunnel)]] as const,
      calls: ["7 sync#0 a.example.com/,a.example.com/x,b.example.com/ tunnel"] },
    { title: "an empty cluster sends an empty sync", inputs: [[0, decide(direct)], [0, start]] as const, calls: ["0 sync#0  direct"] }
  ])("$title", ({ inputs, calls }) => {
    expect(drive(inputs).calls).toEqual(calls)
  })

  it("a successful sync records what the controller has; its conflicts are refused and not registered", () => {
    const state = synced([a, ax, b], ["b.example.com"])
    expect(statusOf(state)).toMatchObject({ synced: true, registeredRoutes: 2, conflicts: ["b.example.com"], pendingHosts: 0, syncPending: false })
  })

  it("a failed first sync is retried after the backoff, both edges; no hostname call goes out meanwhile", () => {
    const { state, calls } = drive([
      [0, desired(["a.example.com", [a]])], [0, decide(direct)], [0, start],
      [10, { _tag: "SyncDone", ticket: 0, result: { _tag: "Failed", failure: down } }],
      [20, desired(["b.example.com", [b]])], [1_009, tick], [1_010, tick]
    ])
    expect(calls).toEqual(["0 sync#0 a.example.com/ direct", "1010 sync#1 a.example.com/,b.example.com/ direct"])
    expect(statusOf(state).lastError).toBe(down.message)
  })
})

describe("SyncEngine.step: changes after the sync", () => {
  it("registers what is new or changed, and unregisters a hostname nothing claims", () => {
    const { calls } = drive([[1, desired(["a.example.com", [a, ax]], ["b.example.com", []])]], synced([a, b]))
    expect(calls).toEqual(["1 host#1 a.example.com +/x", "1 host#2 b.example.com -unregister"])
  })

  it("an unchanged hostname makes no call", () => {
    expect(drive([[1, desired(["a.example.com", [a]])]], synced([a])).calls).toEqual([])
  })

  it("a hostname that changes while its calls run is planned again when they return, in order", () => {
    const { state, calls } = drive([
      [1, desired(["a.example.com", [a, ax]])],
      [2, desired(["a.example.com", [a]])],
      [3, done(1, "a.example.com", [ax])]
    ], synced([a]))
    expect(calls).toEqual(["1 host#1 a.example.com +/x"])
    // /x went away from a still-claimed hostname: only a sync can clear it.
    expect(state.orphanSyncAt).toBe(3 + 30_000)
    expect(drive([[30_002, tick], [30_003, tick]], state).calls).toEqual(["30003 sync#2 a.example.com/ direct"])
  })

  it("at most `concurrency` hostnames are in flight; the others follow, oldest first", () => {
    const { calls } = drive([
      [1, desired(["c.example.com", [c]], ["a.example.com", [a]], ["b.example.com", [b]])],
      [2, done(1, "c.example.com", [c])]
    ], synced([]))
    expect(calls).toEqual(["1 host#1 c.example.com +/", "1 host#2 a.example.com +/", "2 host#3 b.example.com +/"])
  })

  it("a failing hostname waits for its own retry and holds up no other", () => {
    const { state, calls } = drive([
      [1, desired(["a.example.com", [a]])],
      [2, done(1, "a.example.com", [], { failure: down })],
      [3, desired(["b.example.com", [b]])],
      [1_001, tick], [1_002, tick]
    ], synced([]))
    expect(calls).toEqual(["1 host#1 a.example.com +/", "3 host#2 b.example.com +/", "1002 host#3 a.example.com +/"])
    expect(state.wakeAt).toBeUndefined()
  })

  it("retries back off per hostname: 1 s, 2 s, 4 s, then 4 s again", () => {
    let state = drive([[0, desired(["a.example.com", [a]])]], synced([])).state
    const at: Array<number> = [0]
    for (let i = 0; i < 4; i++) {
      const now = at[at.length - 1] ?? 0
      const failed = step(state, done(state.nextTicket - 1, "a.example.com", [], { failure: down }), now)
      state = step(failed.state, tick, failed.wakeAt ?? 0).state
      at.push(failed.wakeAt ?? 0)
    }
    expect(at).toEqual([0, 1_000, 3_000, 7_000, 11_000])
  })

  it("a refused token pauses every call for 30 s, both edges, and is cleared by the next success", () => {
    const { state, calls } = drive([
      [1, desired(["a.example.com", [a]])],
      [2, done(1, "a.example.com", [], { failure: refused })],
      [3, desired(["b.example.com", [b]])],
      [30_001, tick], [30_002, tick],
      [30_003, done(2, "b.example.com", [b])]
    ], synced([]))
    expect(calls).toEqual(["1 host#1 a.example.com +/", "30002 host#2 b.example.com +/", "30002 host#3 a.example.com +/"])
    expect(statusOf(state).authFailed).toBe(false)
  })

  it("409 on register refuses the hostname until nothing claims it", () => {
    const { state, calls } = drive([
      [1, desired(["a.example.com", [a]])],
      [2, done(1, "a.example.com", [], { conflict: true })],
      [3, desired(["a.example.com", [a, ax]])],
      [4, desired(["a.example.com", []])],
      [5, desired(["a.example.com", [a]])]
    ], synced([]))
    expect(calls).toEqual(["1 host#1 a.example.com +/", "5 host#2 a.example.com +/"])
    expect(statusOf(state).conflicts).toEqual([])
  })
})

describe("SyncEngine.step: authoritative syncs", () => {
  it("a new decision syncs at once, cancelling hostname calls in flight; their late answers are ignored", () => {
    const { state, calls } = drive([
      [1, desired(["a.example.com", [a, ax]])],
      [2, decide(tunnel)],
      [3, done(1, "a.example.com", [ax])],
      [4, ok(2, [a, ax])]
    ], synced([a]))
    expect(calls).toEqual(["1 host#1 a.example.com +/x", "2 sync#2 a.example.com/,a.example.com/x tunnel"])
    expect(statusOf(state)).toMatchObject({ registeredRoutes: 2, pendingHosts: 0, decision: tunnel })
  })

  it("the same decision again changes nothing", () => {
    expect(drive([[1, decide({ ...direct, ingressService: Option.some("x/y") })]], synced([a])).calls).toEqual([])
  })

  it("a change during a sync is planned against what the sync stored", () => {
    const { calls } = drive([
      [1, { _tag: "Resync" }],
      [2, desired(["b.example.com", [b]])],
      [3, ok(1, [a])]
    ], synced([a]))
    expect(calls).toEqual(["1 sync#1 a.example.com/ direct", "3 host#2 b.example.com +/"])
  })

  it("a failing resync does not stop hostname calls", () => {
    const { calls } = drive([
      [1, { _tag: "Resync" }],
      [2, { _tag: "SyncDone", ticket: 1, result: { _tag: "Failed", failure: down } }],
      [3, desired(["b.example.com", [b]])],
      [1_002, tick]
    ], synced([a]))
    expect(calls).toEqual(["1 sync#1 a.example.com/ direct", "3 host#2 b.example.com +/", "1002 sync#3 a.example.com/,b.example.com/ direct"])
  })
})
