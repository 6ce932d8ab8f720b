/**
 * `dist/main.js` picks the command's bundle and runs it through the code cache: the same answers
 * from a first start and from one that loads the saved code, and no cache with source maps on.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { version } from "../../src/Version.js"
import { root } from "../support/Cli.js"

const run = (nodeArgs: ReadonlyArray<string>, args: ReadonlyArray<string>, cache: string) => {
  const result = spawnSync(process.execPath, [...nodeArgs, "dist/main.js", ...args], {
    cwd: root, encoding: "utf8", timeout: 30_000,
    env: { ...process.env, NO_COLOR: "1", NODE_COMPILE_CACHE: cache, PIPEOPS_API_URL: "" }
  })
  return { code: result.status, stdout: result.stdout.trim(), stderr: result.stderr.trim() }
}

const saved = (cache: string) => readdirSync(join(cache, "pipeops-agent")).map((name) => name.replace(/-[0-9a-f]+\.bin$/, ""))

describe("the launcher (built program)", () => {
  it("answers the same from a first start and from the saved code, one cache per command", () => {
    const cache = mkdtempSync(join(tmpdir(), "launcher-"))
    const first = [run([], ["--version"], cache), run([], ["run"], cache)]
    expect(saved(cache).sort()).toEqual(["cli.cjs", "run.cjs"])
    const again = [run([], ["--version"], cache), run([], ["run"], cache)]
    expect(again).toEqual(first)
    expect(first[0]).toEqual({ code: 0, stdout: version, stderr: "" })
    expect(first[1]?.code).toBe(2)
    expect(first[1]?.stderr).toMatch(/^error: invalid PIPEOPS_API_URL/)
  })

  it("with --enable-source-maps loads the bundle as Node does and keeps no compiled code", () => {
    const cache = mkdtempSync(join(tmpdir(), "launcher-"))
    expect(run(["--enable-source-maps"], ["--version"], cache)).toEqual({ code: 0, stdout: version, stderr: "" })
    expect(readdirSync(cache)).toEqual([])
  })
})
