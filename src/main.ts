#!/usr/bin/env node
/**
 * The `pipeops-agent` program: `run` (the agent), `plan` (offline) and `controller` (the reference
 * controller).
 * The only place effects are run.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Config, ConfigError, Console, Effect, Exit, Layer } from "effect"
import * as NodeModule from "node:module"
import { setFlagsFromString } from "node:v8"
import { controllerCommand, controllerHelp } from "./cli/ControllerCommand.js"
import { helpFor, missingValue } from "./cli/Help.js"
import { planCommand, planHelp } from "./cli/PlanCommand.js"
import { runCommand, runHelp } from "./cli/RunCommand.js"
import { InvalidSetting } from "./config/Settings.js"
import * as Logging from "./observability/Logging.js"
import { version } from "./Version.js"

// Node 22.1+ keeps compiled code of the chunks loaded from here on (the agent's, 1.2 MB) in a cache
// (NODE_COMPILE_CACHE, else the temporary directory): later starts skip compiling them. The images
// set NODE_COMPILE_CACHE, which covers the entry too. Older Node has no such function; an
// unwritable directory only disables the cache.
const compileCache: unknown = Reflect.get(NodeModule, "enableCompileCache")
if (typeof compileCache === "function") compileCache()

// Without a young-generation size on the command line (the images pass --max-semi-space-size=4)
// V8 grows it to 16 MB per semi-space: about 45 MB more RSS at 10,000 Ingresses. Its maximum can
// only be set at start, but its growth factor is read at run time: 1 keeps it at its initial
// size. Set before anything allocates much: it does not shrink what already grew.
const nodeOptions = Effect.runSync(Config.withDefault(Config.string("NODE_OPTIONS"), ""))
const youngGenerationGiven = [...process.execArgv, nodeOptions].some((arg) => /--(max-|min-)?semi-space-size|--semi-space-growth-factor/.test(arg))
if (!youngGenerationGiven) setFlagsFromString("--semi-space-growth-factor=1")

/** Exit codes: 0 success, 1 failure at run time, 2 bad usage, configuration or input. */
const usageError = 2

const command = Command.make("pipeops-agent").pipe(
  Command.withDescription("keeps the PipeOps gateway's route registry in step with a cluster's Ingresses"),
  Command.withSubcommands([runCommand, planCommand, controllerCommand])
)

const cli = Command.run(command, { name: "pipeops-agent", version })

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

const program = Effect.suspend(() => {
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

NodeRuntime.runMain(program, { disablePrettyLogger: true, teardown: (exit, onExit) => onExit(exitCode(exit)) })
