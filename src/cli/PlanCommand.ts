/**
 * `pipeops-agent plan -f <file-or-dir> [-f …]`: prints what the agent would send for a set of
 * manifests, without a cluster or a controller.
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
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

/** The `plan` subcommand: JSON on stdout, warnings on stderr; its work is loaded when it runs. */
export const planCommand = Command.make("plan", { files, ...routingFlags }, (args) =>
  Effect.flatMap(Effect.promise(() => import("../plan/PlanProgram.js")), (plan) => plan.printPlan(args))
).pipe(Command.withDescription(planHelp.summary))
