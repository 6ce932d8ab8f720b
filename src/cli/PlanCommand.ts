/**
 * `pipeops-agent plan -f <file-or-dir> [-f …]`: prints what the agent would send for a set of
 * manifests, without a cluster or a controller.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Either } from "effect"
import { routingFromFlags } from "../config/AgentConfig.js"
import { InvalidSetting } from "../config/Settings.js"
import { readManifests } from "../plan/Manifests.js"
import { makePlan, sortObjects } from "../plan/Plan.js"
import type { CommandHelp } from "./Help.js"
import { routingFlags } from "./RoutingOptions.js"

const files = Options.text("filename").pipe(
  Options.withAlias("f"),
  Options.atLeast(1),
  Options.withDescription("a manifest file or directory (YAML or JSON; repeatable)"))

/** What `plan --help` shows. */
export const planHelp: CommandHelp = {
  name: "plan", usage: "-f <file-or-dir> [-f ...] [flags]", options: Options.all({ files, ...routingFlags }),
  summary: "print the routes the agent would register for a set of manifests (offline)"
}

/** The `plan` subcommand: JSON on stdout, warnings on stderr. */
export const planCommand = Command.make(
  "plan",
  { files, ...routingFlags },
  ({ files, ...flags }) => Effect.gen(function* () {
    const routing = yield* routingFromFlags(flags)
    const sorted = sortObjects(yield* readManifests(files))
    yield* Effect.forEach(sorted.warnings, (warning) => Console.error(`warning: ${warning}`))
    const plan = makePlan(sorted, routing)
    if (Either.isLeft(plan)) return yield* new InvalidSetting({ setting: "--routing-mode", reason: plan.left.message })
    yield* Console.log(JSON.stringify(plan.right, null, 2))
  })
).pipe(Command.withDescription(planHelp.summary))
