import { build } from "esbuild"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * The start-up floor as a user would run it, from process start: `floor-startup-process.ts`
 * bundled into one file (as the agent is) and run with `node`; resolves with when it was spawned.
 */
export const floorStartupProcess = async (simUrl: string, simToken: string, controllerUrl: string): Promise<number> => {
  const dir = mkdtempSync(join(tmpdir(), "bench-floor-"))
  const outfile = join(dir, "floor.mjs")
  await build({ entryPoints: [join(import.meta.dirname, "floor-startup-process.ts")], outfile, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "silent" })
  const spawnedAt = Date.now()
  const child = spawn(process.execPath, [outfile, simUrl, simToken, controllerUrl], { stdio: "inherit" })
  await new Promise((resolve) => child.once("exit", resolve))
  rmSync(dir, { recursive: true, force: true })
  return spawnedAt
}
