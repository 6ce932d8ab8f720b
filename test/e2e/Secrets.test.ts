/**
 * Nothing secret in any output of the built agent: not the controller token, not the kubeconfig's
 * credentials, even when the controller echoes the Authorization header in its error bodies and
 * the API server's watches fail.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ingresses } from "../../src/kubernetes/Resources.js"
import { simulator } from "../support/ApiServerSimulator.js"
import { ingress } from "../support/Builders.js"
import { startCli } from "../support/Cli.js"
import { eventually } from "../support/Eventually.js"
import { freePort } from "../support/Ports.js"

const controllerToken = "ctl-secret-5b1e9a7c"
const kubeToken = "kube-secret-93f0d2aa"
const dir = mkdtempSync(join(tmpdir(), "agent-secrets-"))


/** A controller that answers every call with an error whose body echoes the request's headers. */
const echoingController = Effect.acquireRelease(Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
  let calls = 0
  const server = createServer((req, res) => {
    req.resume()
    // The tunnel's dial is refused apart (echoing too), so the API calls see the statuses in turn.
    if (req.url === "/api/v1/gateway/tunnel") return void res.writeHead(401).end(JSON.stringify({ echo: req.headers }))
    const status = [401, 400, 500][calls++ % 3] ?? 500
    res.writeHead(status, { "content-type": "application/json" })
    res.end(JSON.stringify({ error: `no: ${req.headers.authorization ?? ""}`, echo: req.headers }))
  })
  server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })))
}), (server) => Effect.sync(server.close))

describe("nothing secret in any output (built program)", () => {
  it.live("with a controller echoing credentials and failing watches: no token in the log, /status or /metrics", () =>
    Effect.gen(function* () {
      const sim = yield* simulator({ token: kubeToken, kubeSystemUid: "uid-s" })
      sim.store.upsert(ingresses, ingress({ name: "a", host: "a.example.com" }))
      sim.inject("watch", ingresses, { kind: "status", status: 403 }, { kind: "status", status: 500 })
      const controller = yield* echoingController
      const kubeconfig = join(dir, `kubeconfig-${sim.port}`)
      writeFileSync(kubeconfig, sim.kubeconfig())
      const adminPort = yield* freePort()
      const agent = yield* Effect.acquireRelease(Effect.sync(() => startCli(["run"], {
        KUBECONFIG: kubeconfig, PIPEOPS_API_URL: controller.url, PIPEOPS_TOKEN: controllerToken, PIPEOPS_ADMIN_PORT: String(adminPort),
        LOG_LEVEL: "debug"
      })), (a) => Effect.promise(() => a.stop("SIGKILL")))
      const admin = (path: string) => Effect.promise(async () => {
        const response = await fetch(`http://127.0.0.1:${adminPort}${path}`).catch(() => undefined)
        return response === undefined ? "" : await response.text()
      })
      // Enough for refused syncs (each with its body echoing the token) and the failed watches.
      yield* eventually(admin("/status"), (text) => /"sync":\{[^}]*"last_error":"controller/.test(text) && agent.output().includes("watch failed"), 20_000)
      const outputs = { log: agent.output(), status: yield* admin("/status"), metrics: yield* admin("/metrics"), readyz: yield* admin("/readyz") }
      // Each failure streak is one warning, however many retries (the sync is retried; the watch
      // fails with 403, then 500, in one streak).
      const warnings = outputs.log.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { level: string; msg: string })
        .filter((l) => l.level === "warn").map((l) => l.msg)
      expect(warnings.filter((m) => m === "controller request failed")).toHaveLength(1)
      expect(warnings.filter((m) => m === "watch failed")).toHaveLength(1)
      for (const [where, text] of Object.entries(outputs)) {
        for (const secret of [controllerToken, kubeToken]) expect(text.includes(secret), `${secret} in ${where}`).toBe(false)
      }
    }).pipe(Effect.scoped), 60_000)
})
