import { describe, expect, it } from "@effect/vitest"
import { runCli } from "../support/Cli.js"

describe("help (built program)", () => {
  it.each([[[]], [["--help"]], [["run", "--help"]], [["plan", "-h"]], [["controller", "--help"]]])("%j: one line per flag, no boilerplate, no colour codes", (args) => {
    const result = runCli(args, { NO_COLOR: "" })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^(Usage|pipeops-agent)/)
    for (const noise of ["A user-defined piece of text", "This setting is optional", "--wizard", "$ run", "\u001b["]) expect(result.stdout).not.toContain(noise)
  })

  it("run's help names each flag with its environment variable where it has one", () => {
    const lines = runCli(["run", "--help"]).stdout.split("\n")
    expect(lines.find((l) => l.trimStart().startsWith("--api-url"))).toContain("PIPEOPS_API_URL")
    expect(lines.find((l) => l.trimStart().startsWith("--dry-run"))).toBeDefined()
  })

  it.each([[["run", "--api-url"]], [["run", "--api-url", "--dry-run"]], [["plan", "-f"]]])("%j: a flag without its value is exit 2 saying so", (args) => {
    const result = runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toMatch(/^error: invalid (--api-url|-f): needs a value$/)
  })

  it.each([["LOG_LEVEL", "verbose"], ["LOG_FORMAT", "xml"]])("%s=%s is one error line naming it, exit 2", (name, value) => {
    const result = runCli(["run"], { [name]: value })
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toMatch(new RegExp(`^error: invalid ${name}: expected [^\\n]+$`))
  })
})
