/**
 * The `pipeops-agent` program over the commands one bundle carries: the help, flag errors, exit
 * codes and the runtime. Each command's bundle (`src/commands/`) runs it with its own command;
 * the help bundle with all three, parsed only. The only place effects are run.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, ConfigError, Console, Effect, Exit, Layer } from "effect"
import { controllerHelp } from "./ControllerCommand.js"
import { helpFor, missingValue } from "./Help.js"
import { planHelp } from "./PlanCommand.js"
import { runHelp } from "./RunCommand.js"
import type { ServeError } from "@effect/platform/HttpServerError"
import { InvalidSetting } from "../config/Settings.js"
import type { ClusterUuidUnavailable } from "../gateway/ClusterIdentity.js"
import type { ManifestError } from "../plan/Manifests.js"
import type { SyncFailed } from "./RunAgent.js"
import * as Logging from "../observability/Logging.js"
import { version } from "../Version.js"

/** What a command's handler may fail with: each has its message and exit code below. */
type CommandError = InvalidSetting | ManifestError | SyncFailed | ClusterUuidUnavailable | ServeError | ConfigError.ConfigError

/** The CLI over the commands one bundle carries (the help bundle's have no handler). */
export const cliOf = <Subcommands extends Parameters<typeof Command.withSubcommands>[1]>(subcommands: Subcommands) =>
  Command.run(
    Command.make("pipeops-agent").pipe(
      Command.withDescription("keeps the PipeOps gateway's route registry in step with a cluster's Ingresses"),
      Command.withSubcommands(subcommands)),
    { name: "pipeops-agent", version })

type Cli = (argv: ReadonlyArray<string>) => Effect.Effect<void, ValidationError.ValidationError | CommandError, NodeContext.NodeContext>

/** Exit codes: 0 success, 1 failure at run time, 2 bad usage, configuration or input. */
const usageError = 2

/** A configuration error in the words of every other: the setting, then what is wrong with it. */
const configErrorText = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "InvalidData":
      return `invalid ${error.path.join(".")}: ${error.message}`
    case "MissingData":
      return `${error.path.join(".")} is required: ${error.message}`
    default:
      return String(error)
  }
}

const commands = [runHelp, planHelp, controllerHelp]

/** The program over `cli`, its value the exit code. */
const programOf = (cli: Cli) =>
  Effect.suspend(() => {
    const args = process.argv.slice(2)
    const help = helpFor(args, commands, version)
    if (help !== undefined) return Console.log(help)
    const missing = missingValue(args, commands)
    // The CLI library would call it an unknown argument.
    if (missing !== undefined) return Effect.fail(new InvalidSetting({ setting: missing, reason: "needs a value" }))
    return cli(process.argv)
  }).pipe(
    Effect.as(0),
    Effect.catchIf(ValidationError.isValidationError, () => Effect.succeed(usageError)),
    Effect.catchTags({
      ManifestError: (error) => Console.error(`error: ${error.message}`).pipe(Effect.as(usageError)),
      InvalidSetting: (error) => Console.error(`error: ${error.message}`).pipe(Effect.as(usageError)),
      SyncFailed: () => Console.error("error: the sync failed; see the log").pipe(Effect.as(1)),
      ClusterUuidUnavailable: (error) => Console.error(`error: ${error.message}`).pipe(Effect.as(1)),
      ServeError: (error) => Console.error(`error: cannot listen: ${String(error.cause)}`).pipe(Effect.as(1))
    }),
    Effect.provide(Layer.merge(NodeContext.layer, Logging.layer(process.stderr.isTTY === true))),
    // The logger's own settings (LOG_LEVEL, LOG_FORMAT) fail while it is provided.
    Effect.catchTag("InvalidSetting", (error) => Console.error(`error: ${error.message}`).pipe(Effect.as(usageError))),
    Effect.catchIf(ConfigError.isConfigError, (error) => Console.error(`error: ${configErrorText(error)}`).pipe(Effect.as(usageError)))
  )

// The program's value is its exit code; a failure that escapes it (a defect) exits 1.
const exitCode = <E, A>(exit: Exit.Exit<E, A>): number =>
  Exit.match(exit, {
    onSuccess: (code) => (typeof code === "number" ? code : 0),
    onFailure: (cause) => (Cause.isInterruptedOnly(cause) ? 0 : 1)
  })

/** Runs the program over `cli` until it ends, and exits with its code. */
export const runProgram = (cli: Cli): void =>
  NodeRuntime.runMain(programOf(cli), { disablePrettyLogger: true, teardown: (exit, onExit) => onExit(exitCode(exit)) })
