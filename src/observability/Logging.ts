/**
 * The process logger, on stderr: one flat JSON object per line (`ts`, `level`, `msg`, then the
 * fields; the default off a terminal, and in the cluster) or one readable line for people, at the
 * minimum level `LOG_LEVEL` sets. No fiber ids, no spans: what log pipelines and people read.
 */
import { Cause, Config, Effect, HashMap, Layer, Logger, LogLevel, Option } from "effect"
import { InvalidSetting } from "../config/Settings.js"

/** `LOG_FORMAT`: `json` or `pretty`; the default is `json` unless stderr is a terminal. */
export const LogFormat = Config.literal("json", "pretty")("LOG_FORMAT")

/** A log entry as one flat object: `ts`, `level`, `msg`, the annotations, and a failure's `error`. */
export const entryOf = ({ date, logLevel, message, annotations, cause }: Logger.Logger.Options<unknown>): Record<string, unknown> => {
  const msg = (Array.isArray(message) ? message : [message]).map(String).join(" ")
  const entry: Record<string, unknown> = { ts: date.toISOString(), level: logLevel.label.toLowerCase(), msg }
  for (const [key, value] of HashMap.toEntries(annotations)) entry[key] = value
  if (!Cause.isEmpty(cause)) {
    entry["error"] = Cause.pretty(cause).split("\n")[0]
    // A defect is a bug: its stack is what a developer needs. A failure's message says it all.
    if (Cause.isDie(cause)) entry["stack"] = Cause.pretty(cause)
  }
  return entry
}

const shown = (value: unknown): string =>
  typeof value === "string" && value !== "" && !/[\s"=]/.test(value) ? value : JSON.stringify(value) ?? String(value)

/** `15:04:05.123 WARN msg key=value …`; the `service` field is left out (it is for log pipelines). */
export const prettyLine = (entry: Record<string, unknown>, colour: boolean): string => {
  const fields = Object.entries(entry).filter(([key]) => !["ts", "level", "msg", "service"].includes(key))
  const time = String(entry["ts"]).slice(11, 23)
  const label = String(entry["level"]).toUpperCase().padEnd(5)
  const colours: Record<string, string> = { ERROR: "\u001b[31m", WARN: "\u001b[33m", INFO: "\u001b[36m", DEBUG: "\u001b[90m" }
  const tinted = colour ? `${colours[label.trim()] ?? ""}${label}\u001b[0m` : label
  return [`${time} ${tinted} ${String(entry["msg"])}`, ...fields.map(([k, v]) => `${k}=${shown(v)}`)].join(" ")
}

const toStderr = (render: (entry: Record<string, unknown>) => string) =>
  Logger.make<unknown, void>((options) => void process.stderr.write(`${render(entryOf(options))}\n`))

/** The logger for a program, from `LOG_FORMAT` and `LOG_LEVEL` (default `info`); colour only on a terminal without `NO_COLOR`. */
export const layer = (isTerminal: boolean): Layer.Layer<never, InvalidSetting> =>
  Layer.unwrapEffect(Effect.gen(function* () {
    const format = yield* LogFormat.pipe(Config.withDefault(isTerminal ? "pretty" : "json"),
      Effect.mapError(() => new InvalidSetting({ setting: "LOG_FORMAT", reason: "expected json or pretty" })))
    const level = yield* Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info),
      Effect.mapError(() => new InvalidSetting({ setting: "LOG_LEVEL", reason: "expected debug, info, warning, error, fatal or none" })))
    const noColour = Option.isSome(yield* Config.option(Config.string("NO_COLOR")).pipe(Effect.orElseSucceed(() => Option.none())))
    const logger = format === "json" ? toStderr((entry) => JSON.stringify(entry)) : toStderr((entry) => prettyLine(entry, isTerminal && !noColour))
    return Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(level))
  }))
