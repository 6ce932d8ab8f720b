/**
 * This process's identity among the agent's replicas: `<pod name, else host name>_<8 random hex
 * digits>`, made once at start. The controller sees it on every call (`X-Pipeops-Agent-Id`), in
 * heartbeats, and it names the holder of the leader lease.
 */
import { Config, Effect, Option, Random } from "effect"
import { hostname } from "node:os"

/** A new agent id: `POD_NAME` (the downward API), else the host name, and a random suffix. */
export const makeAgentId: Effect.Effect<string> = Effect.gen(function* () {
  const pod = yield* Config.option(Config.nonEmptyString("POD_NAME")).pipe(Effect.orElseSucceed(() => Option.none()))
  const suffix = (yield* Random.nextIntBetween(0, 0x1_0000_0000)).toString(16).padStart(8, "0")
  return `${Option.getOrElse(pod, hostname)}_${suffix}`
})
