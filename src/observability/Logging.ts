/**
 * The process logger, on stderr: one JSON object per line (the default off a terminal, and in the cluster)
 * or pretty lines for people, at the minimum level `LOG_LEVEL` sets.
 */
import { Config, Effect, Layer, Logger, LogLevel, type ConfigError } from "effect"

/** `LOG_FORMAT`: `json` or `pretty`; the default is `json` unless stderr is a terminal. */
export const LogFormat = Config.literal("json", "pretty")("LOG_FORMAT")

// Logs go to stderr, so a command's own output (plan's JSON) stays alone on stdout.
const jsonToStderr = Logger.withConsoleError(Logger.jsonLogger)

/** The logger for a program, from `LOG_FORMAT` and `LOG_LEVEL` (default `info`). */
export const layer = (isTerminal: boolean): Layer.Layer<never, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.gen(function* () {
    const format = yield* LogFormat.pipe(Config.withDefault(isTerminal ? "pretty" : "json"))
    const level = yield* Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
    return Layer.merge(
      Logger.replace(Logger.defaultLogger, format === "json" ? jsonToStderr : Logger.prettyLogger({ stderr: true })),
      Logger.minimumLogLevel(level))
  }))
