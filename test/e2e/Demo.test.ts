/**
 * The README's first command: the demo converges every step, carries real requests direct and
 * through the tunnel, and exits 0.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { root } from "../support/Cli.js"

describe("npm run demo", () => {
  it("converges every step and exits 0", async () => {
    // dist/ is built by `npm test` before the tests run; the demo script itself runs under tsx.
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/demo.ts"], { cwd: root, timeout: 90_000 })
    expect(stdout).toContain("demo: every step converged")
    expect(stdout.match(/: converged/g)).toHaveLength(6)
    // Real public requests through the edge: direct while the cluster is public, then through the tunnel.
    expect(stdout).toContain("-> 200 via direct: the cluster's ingress controller saw Host=shop.example.com")
    expect(stdout).toContain("-> 200 via tunnel: the cluster's ingress controller saw Host=shop.example.com")
    // The Gateway API step: HTTPRoutes registered, and served through the tunnel.
    expect(stdout).toContain("-> 200 via tunnel: the cluster's ingress controller saw Host=catalog.store.example.com")
    // What the agent said (its pretty log lines, prefixed "agent |"): each thing it did, the mode
    // switch with its grace period, in single lines without fiber ids.
    const agent = stdout.split("\n").filter((line) => line.startsWith("  agent | "))
    for (const said of ["routes synced", "route registered hostname=docs.example.com", "route unregistered hostname=docs.example.com",
      "load balancer address lost: switching to tunnel routing after the grace period", "private cluster detected - using tunnel routing", "tunnel connected"]) {
      expect(agent.some((line) => line.includes(said)), said).toBe(true)
    }
    expect(agent.some((line) => /fiber|#\d+/.test(line))).toBe(false)
  }, 100_000)
})
