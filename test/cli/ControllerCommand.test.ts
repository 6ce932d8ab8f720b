import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer, type AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli, startCli } from "../support/Cli.js"

describe("pipeops-agent controller (built program)", () => {
  it("serves on the announced port with tokens from flags and a file, and exits 0 on SIGTERM", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tokens-")), "tokens")
    writeFileSync(file, "# agents\nfile-token=cluster-f\n")
    const controller = startCli(["controller", "--port", "0", "--token", "flag-token=cluster-a", "--tokens-file", file])
    try {
      const listening = await controller.waitForLog("controller listening")
      const port = Number(listening["port"])
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
      for (const [token, cluster] of [["flag-token", "cluster-a"], ["file-token", "cluster-f"]]) {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/gateway/routes/cluster/${cluster}`, { headers: { authorization: `Bearer ${token}` } })
        expect(response.status).toBe(200)
      }
      expect(controller.output()).not.toContain("flag-token")
    } finally {
      expect(await controller.stop("SIGTERM")).toBe(0)
    }
  })

  it("an edge port that cannot be listened on is an error naming --edge-port, even when it is --port's", async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const result = runCli(["controller", "--token", "a=b", "--port", String(port), "--edge-port", String(port)])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("invalid --edge-port")
  })

  it.each([
    [["controller"], "--token"],
    [["controller", "--token", "no-equals-sign"], "--token"],
    [["controller", "--token", "a=b", "--port", "99999"], "--port"]
  ])("exits 2 naming the setting: %j", (args, setting) => {
    const result = runCli(args)
    expect(result.code).toBe(2)
    expect(result.stderr + result.stdout).toContain(setting)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })
})
