/**
 * `ssh -R` as a user might set it up instead of the tunnel: a private OpenSSH server on loopback
 * (its own keys and config in a temporary directory) and an `ssh -N -R` client forwarding a port
 * of the server to the upstream. Needs Debian's openssh-server and openssh-client; nothing is
 * installed here: without the binaries the result says how to get them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir, userInfo } from "node:os"
import { join } from "node:path"
import { freePort, sleep } from "./harness.js"

export interface SshReverse {
  /** The port on the server that reaches the upstream. */
  readonly port: number
  readonly close: () => void
}

const sshd = "/usr/sbin/sshd"

/** Why `ssh -R` cannot be measured here, or `undefined` when it can. */
export const sshMissing = (): string | undefined =>
  existsSync(sshd) && spawnSync("ssh", ["-V"]).status === 0
    ? undefined
    : "OpenSSH not installed: apt-get install openssh-server openssh-client"

const reachable = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, "127.0.0.1", () => {
    socket.destroy()
    resolve(true)
  })
  socket.once("error", () => resolve(false))
})

/** Starts the server and the reverse forward to `127.0.0.1:upstreamPort`. */
export const startSshReverse = async (upstreamPort: number): Promise<SshReverse> => {
  const dir = mkdtempSync(join(tmpdir(), "bench-ssh-"))
  for (const key of ["host", "client"]) spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, key)])
  writeFileSync(join(dir, "authorized_keys"), spawnSync("cat", [join(dir, "client.pub")]).stdout)
  const [serverPort, forwardPort] = [await freePort(), await freePort()]
  writeFileSync(join(dir, "sshd_config"), [
    `Port ${serverPort}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "AllowTcpForwarding yes",
    `PidFile ${join(dir, "sshd.pid")}`, "LogLevel ERROR"
  ].join("\n"))
  // sshd run as root checks its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true })
  const processes: Array<ChildProcess> = [spawn(sshd, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" })]
  const close = () => {
    for (const child of processes) child.kill("SIGTERM")
    rmSync(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 100 && !(await reachable(serverPort)); i++) await sleep(50)
  processes.push(spawn("ssh", [
    "-N", "-i", join(dir, "client"), "-p", String(serverPort), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR", "-R", `127.0.0.1:${forwardPort}:127.0.0.1:${upstreamPort}`, `${userInfo().username}@127.0.0.1`
  ], { stdio: "ignore" }))
  for (let i = 0; i < 100 && !(await reachable(forwardPort)); i++) await sleep(50)
  if (!(await reachable(forwardPort))) {
    close()
    throw new Error("ssh -R did not come up")
  }
  return { port: forwardPort, close }
}
