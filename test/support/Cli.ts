/**
 * Runs the built program (`dist/main.js`) as a child process: what an operator runs.
 */
import { spawn, spawnSync } from "node:child_process"
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

/** A running program: its JSON log lines as they arrive, and a way to stop it. */
export interface RunningCli {
  /** Resolves with the first JSON log line whose message is `message`. */
  readonly waitForLog: (message: string, timeoutMs?: number) => Promise<Record<string, unknown>>
  /** Sends `signal` and resolves with the exit code. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<number | null>
  readonly output: () => string
  /** Resolves with the exit code once the program exits by itself. */
  readonly exited: Promise<number | null>
  readonly pid: number | undefined
}

/** The V8 flags the Dockerfile and the flake's image run the agent with; spawned agents get them too. */
export const agentNodeFlags: ReadonlyArray<string> = ["--max-semi-space-size=4"]

/**
 * Starts `node dist/main.js ...args` with JSON logs, the images' node flags (unless `env` says
 * `AGENT_IMAGE_FLAGS: "off"`: a plain `node`, as a user types it) and `AGENT_NODE_ARGS` (from `env`
 * or the environment).
 */
export const startCli = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  onLine: (line: string) => void = () => undefined
): RunningCli => {
  const extra = (env["AGENT_NODE_ARGS"] ?? process.env["AGENT_NODE_ARGS"])?.split(" ").filter((a) => a !== "") ?? []
  const imageFlags = env["AGENT_IMAGE_FLAGS"] === "off" ? [] : agentNodeFlags
  const child = spawn(process.execPath, [...imageFlags, ...extra, "dist/main.js", ...args], {
    cwd: root,
    env: { ...process.env, LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const listeners = new Set<() => void>()
  let partial = ""
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8")
    output += text
    const lines = (partial + text).split("\n")
    partial = lines.pop() ?? ""
    for (const line of lines) onLine(line)
    for (const listener of listeners) listener()
  }
  child.stdout.on("data", onData)
  child.stderr.on("data", onData)
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const logs = () => output.split("\n").flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line)
      return typeof parsed === "object" && parsed !== null ? [parsed as Record<string, unknown>] : []
    } catch {
      return []
    }
  })
  const waitForLog = (message: string, timeoutMs = 10_000) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const check = () => {
      const found = logs().find((log) => log["msg"] === message)
      if (found === undefined) return
      listeners.delete(check)
      clearTimeout(timer)
      resolve(found)
    }
    const timer = setTimeout(() => {
      listeners.delete(check)
      reject(new Error(`no "${message}" log line within ${timeoutMs} ms; output:\n${output}`))
    }, timeoutMs)
    listeners.add(check)
    check()
  })
  const stop = (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null) child.kill(signal)
    return exited
  }
  return { waitForLog, stop, output: () => output, exited, pid: child.pid }
}
