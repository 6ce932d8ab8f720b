/**
 * `pipeops-agent plan -f <file-or-dir> [-f …]`: prints what the agent would send for a set of
 * manifests, without a cluster or a controller.
 */
import { Command, Options } from "@effect/cli"
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

/** The `plan` subcommand as parsed; its bundle gives it `PlanProgram` (JSON on stdout, warnings on stderr). */
export const planCommand = Command.make("plan", { files, ...routingFlags }).pipe(Command.withDescription(planHelp.summary))
