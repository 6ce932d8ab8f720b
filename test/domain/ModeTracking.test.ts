import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import type { RoutingDecision } from "../../src/domain/ClusterMode.js"
import { initialModeState, sameDecision, sameRouting, trackMode } from "../../src/domain/ModeTracking.js"

const direct = (publicEndpoint = "203.0.113.45:80"): RoutingDecision =>
  ({ routingMode: "direct", publicEndpoint, isPrivate: false, ingressService: Option.none(), upstream: Option.none() })
const tunnel: RoutingDecision = { routingMode: "tunnel", publicEndpoint: "", isPrivate: true, ingressService: Option.none(), upstream: Option.none() }
const grace = 60_000

describe("trackMode", () => {
  it("takes the first decision at once", () => {
    expect(trackMode(initialModeState, tunnel, 0, grace)).toMatchObject({ changed: true, state: { effective: tunnel } })
  })

  it("switches from tunnel to direct, and between endpoints, at once", () => {
    const inTunnel = trackMode(initialModeState, tunnel, 0, grace).state
    expect(trackMode(inTunnel, direct(), 1, grace).changed).toBe(true)
    const inDirect = trackMode(inTunnel, direct(), 1, grace).state
    expect(trackMode(inDirect, direct("198.51.100.1:80"), 2, grace).changed).toBe(true)
  })

  it("leaves direct only after the grace period, waking up when it ends", () => {
    const inDirect = trackMode(initialModeState, direct(), 0, grace).state
    const pending = trackMode(inDirect, tunnel, 1_000, grace)
    expect([pending.changed, pending.wakeAt, pending.state.effective]).toEqual([false, 61_000, direct()])
    expect(trackMode(pending.state, tunnel, 60_999, grace).changed).toBe(false)
    expect(trackMode(pending.state, tunnel, 61_000, grace)).toMatchObject({ changed: true, state: { effective: tunnel, pendingSince: undefined } })
  })

  it("takes a moved upstream without announcing a change when the routing stays", () => {
    const inTunnel = trackMode(initialModeState, tunnel, 0, grace).state
    const moved = { ...tunnel, upstream: Option.some("traefik.kube-system.svc:80") }
    expect(trackMode(inTunnel, moved, 1, grace)).toMatchObject({ changed: false, state: { effective: moved } })
    expect(sameRouting(tunnel, moved)).toBe(true)
    expect(sameDecision(tunnel, moved)).toBe(false)
  })

  it("a load balancer that comes back inside the grace period changes nothing and cancels the switch", () => {
    const inDirect = trackMode(initialModeState, direct(), 0, grace).state
    const pending = trackMode(inDirect, tunnel, 1_000, grace).state
    const back = trackMode(pending, direct(), 30_000, grace)
    expect([back.changed, back.state.pendingSince]).toEqual([false, undefined])
    expect(trackMode(back.state, tunnel, 70_000, grace).changed).toBe(false)
  })
})
