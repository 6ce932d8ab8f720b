import { describe, expect, it } from "@effect/vitest"
import {
  electionStep, formatMicroTime, initialElection, type ElectionInput, type ElectionState, type Lease, type LeaseRecord
} from "../../src/domain/LeaderElection.js"

const timings = { leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 }
const fresh = (identity = "a_00000001") => initialElection(identity, timings)

const lease = (holderIdentity: string, resourceVersion: string, extra: Partial<LeaseRecord> = {}): Lease => ({
  resourceVersion,
  record: { holderIdentity, leaseDurationSeconds: 15, acquireTime: "2026-11-30T12:00:00.000000Z", renewTime: "2026-11-30T12:00:00.000000Z", leaseTransitions: 3, ...extra }
})
const observed = (l: Lease | undefined): ElectionInput => ({ _tag: "Observed", lease: l })
const written = (l: Lease): ElectionInput => ({ _tag: "Written", lease: l })
const failed: ElectionInput = { _tag: "Failed", reason: "409: the object has been modified" }

/** Feeds inputs at their times; returns the state and each step's write and loss. */
const drive = (from: ElectionState, inputs: ReadonlyArray<readonly [number, ElectionInput]>) => {
  let state = from
  const steps = inputs.map(([now, input]) => {
    const step = electionStep(state, input, now)
    state = step.state
    return { write: step.write, lost: step.lost }
  })
  return { state, steps }
}

/** A replica leading since `at` with the lease at resourceVersion "10". */
const leader = (at = 0) => drive(fresh(), [[at, observed(undefined)], [at, written(lease("a_00000001", "10", { leaseTransitions: 0 }))]]).state

describe("election step", () => {
  it("creates an absent lease, and leads once the create is accepted", () => {
    const { state, steps } = drive(fresh(), [[1_000, observed(undefined)]])
    expect(steps[0]?.write).toEqual({
      _tag: "Create",
      record: { holderIdentity: "a_00000001", leaseDurationSeconds: 15, acquireTime: "1970-01-01T00:00:01.000000Z", renewTime: "1970-01-01T00:00:01.000000Z", leaseTransitions: 0 }
    })
    expect(state.leading).toBe(false)
    expect(electionStep(state, written(lease("a_00000001", "5")), 1_001).state.leading).toBe(true)
  })

  it("takes another's lease only once it has not changed for its duration by the local clock: not at 14,999 ms, at 15,000", () => {
    const { steps } = drive(fresh(), [[0, observed(lease("b_00000002", "7"))], [14_999, observed(lease("b_00000002", "7"))], [15_000, observed(lease("b_00000002", "7"))]])
    expect(steps.map((s) => s.write?._tag)).toEqual([undefined, undefined, "Update"])
    expect(steps[2]?.write).toMatchObject({ resourceVersion: "7", record: { holderIdentity: "a_00000001", leaseTransitions: 4, acquireTime: "1970-01-01T00:00:15.000000Z" } })
  })

  it("never takes a live lease because the holder's renewTime looks old by the local clock (skew)", () => {
    const skewed = lease("b_00000002", "7", { renewTime: "2001-01-01T00:00:00.000000Z", acquireTime: "2001-01-01T00:00:00.000000Z" })
    const { steps } = drive(fresh(), [[Date.parse("2026-11-30T12:00:00Z"), observed(skewed)], [Date.parse("2026-11-30T12:00:10Z"), observed({ ...skewed, resourceVersion: "8" })]])
    expect(steps.map((s) => s.write)).toEqual([undefined, undefined])
  })

  it("a holder that keeps renewing keeps the lease: each change restarts the wait", () => {
    const { steps } = drive(fresh(), [[0, observed(lease("b_00000002", "7"))], [10_000, observed(lease("b_00000002", "8"))], [24_999, observed(lease("b_00000002", "8"))]])
    expect(steps.map((s) => s.write)).toEqual([undefined, undefined, undefined])
  })

  it("renews its own lease keeping the acquire time and the transitions", () => {
    const { steps } = drive(leader(0), [[2_000, observed(lease("a_00000001", "10", { leaseTransitions: 0, acquireTime: "1970-01-01T00:00:00.000000Z" }))]])
    expect(steps[0]?.write).toEqual({
      _tag: "Update", resourceVersion: "10",
      record: { holderIdentity: "a_00000001", leaseDurationSeconds: 15, acquireTime: "1970-01-01T00:00:00.000000Z", renewTime: "1970-01-01T00:00:02.000000Z", leaseTransitions: 0 }
    })
  })

  it("loses on 409 once the lease shows another holder", () => {
    const { state, steps } = drive(leader(0), [[2_000, failed], [4_000, observed(lease("b_00000002", "11"))]])
    expect(steps.map((s) => s.lost)).toEqual([undefined, "the lease is held by another replica"])
    expect(state.leading).toBe(false)
  })

  it("gives up leadership when renewals fail until the renew deadline: leading at 9,999 ms, not at 10,000", () => {
    const { steps } = drive(leader(0), [[2_000, failed], [9_999, failed], [10_000, failed]])
    expect(steps.map((s) => s.lost === undefined)).toEqual([true, true, false])
    expect(steps[2]?.lost).toContain("renew deadline")
  })

  it("releases on a graceful stop: empty holder, so a follower takes it at once and counts a transition", () => {
    const { steps } = drive(leader(0), [[3_000, { _tag: "Release" }]])
    expect(steps[0]?.write).toMatchObject({ _tag: "Update", resourceVersion: "10", record: { holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 0 } })
    const released = lease("", "12", { leaseTransitions: 0, leaseDurationSeconds: 1 })
    const follower = drive(fresh("b_00000002"), [[3_001, observed(released)]])
    expect(follower.steps[0]?.write).toMatchObject({ _tag: "Update", resourceVersion: "12", record: { holderIdentity: "b_00000002", leaseTransitions: 1 } })
  })

  it("a follower releases nothing", () => {
    expect(drive(fresh(), [[0, { _tag: "Release" }]]).steps[0]?.write).toBeUndefined()
  })
})

describe("MicroTime", () => {
  it.each([
    [0, "1970-01-01T00:00:00.000000Z"],
    [Date.parse("2026-11-30T12:00:00.123Z"), "2026-11-30T12:00:00.123000Z"]
  ])("%d is written with exactly six fractional digits", (millis, text) => {
    expect(formatMicroTime(millis)).toBe(text)
  })
})
