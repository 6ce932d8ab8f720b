/**
 * The README's first command: the demo converges every step and exits 0.
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
    expect(stdout.match(/: converged/g)).toHaveLength(5)
  }, 100_000)
})
