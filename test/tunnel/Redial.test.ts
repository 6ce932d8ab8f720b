import { describe, expect, it } from "@effect/vitest"
import { afterEnding, initialRedial, type Ending, type RedialState } from "../../src/tunnel/Redial.js"

const policy = { steps: [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000], resetAfter: 60_000, authRetry: 30_000 }

/** The delays of consecutive endings, with the random draw at its maximum (the step itself). */
const delays = (endings: ReadonlyArray<readonly [Ending, number]>, random = 0.999_999) => {
  let state: RedialState = initialRedial
  return endings.map(([ending, lived]) => {
    const next = afterEnding(state, ending, lived, policy, random)
    state = next.state
    return next.delay
  })
}

describe("tunnel redial policy", () => {
  it("doubles from 0.5 s to the 30 s cap over consecutive failures", () => {
    expect(delays(Array.from({ length: 9 }, () => ["dial", 10] as const))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000])
  })

  it("draws each delay anywhere from 0 to its step (full jitter)", () => {
    expect(delays([["lost", 10], ["lost", 10]], 0)).toEqual([0, 0])
    expect(delays([["lost", 10], ["lost", 10]], 0.5)).toEqual([250, 500])
  })

  it("starts again from 0.5 s after a connection that lived 60 s", () => {
    expect(delays([["dial", 10], ["dial", 10], ["dial", 10], ["lost", 60_000], ["dial", 10]])).toEqual([500, 1_000, 2_000, 500, 1_000])
  })

  it("waits at least 30 s after a refused token, jitter or not", () => {
    expect(delays([["refused", 10], ["refused", 10]], 0)).toEqual([30_000, 30_000])
    expect(delays([["dial", 10], ["dial", 10], ["dial", 10], ["dial", 10], ["dial", 10], ["dial", 10], ["refused", 10]])).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000])
  })

  it("counts a streak of failed dials; a connection that was up ends it", () => {
    let state: RedialState = initialRedial
    const streaks = (["dial", "dial", "lost", "refused", "ping"] as const).map((ending) => {
      state = afterEnding(state, ending, 10, policy, 0.5).state
      return state.dialStreak
    })
    expect(streaks).toEqual([1, 2, 0, 1, 0])
  })
})
