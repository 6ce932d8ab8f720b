/**
 * Runs the built program (`dist/main.js`) as a child process: what an operator runs.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

/** The repository root. */
export const root = fileURLToPath(new URL("../../", import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `node dist/main.js ...args` from the repository root and waits for it to exit. */
export const runCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): CliResult => {
  const result = spawnSync(process.execPath, ["dist/main.js", ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
    timeout: 30_000
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
