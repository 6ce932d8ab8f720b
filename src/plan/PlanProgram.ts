/**
 * What `plan` does: read the manifests, compute the plan, print it as JSON (warnings on stderr).
 */
import { Console, Effect, Either } from "effect"
import { routingFromFlags, type RoutingFlags } from "../config/AgentConfig.js"
import { InvalidSetting } from "../config/Settings.js"
import { readManifests } from "./Manifests.js"
import { makePlan, sortObjects } from "./Plan.js"

export const printPlan = ({ files, ...flags }: RoutingFlags & { readonly files: ReadonlyArray<string> }) => Effect.gen(function* () {
  const routing = yield* routingFromFlags(flags)
  const sorted = sortObjects(yield* readManifests(files))
  yield* Effect.forEach(sorted.warnings, (warning) => Console.error(`warning: ${warning}`))
  const plan = makePlan(sorted, routing)
  if (Either.isLeft(plan)) return yield* new InvalidSetting({ setting: "--routing-mode", reason: plan.left.message })
  yield* Console.log(JSON.stringify(plan.right, null, 2))
})
