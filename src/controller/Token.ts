/**
 * The bearer token for the controller: a fixed value, or a file (a mounted Secret) that is
 * re-read whenever it changes, so a rotated Secret takes effect without a restart.
 */
import { FileSystem } from "@effect/platform"
import { Config, ConfigError, Context, Effect, Layer, Option, Redacted, Ref } from "effect"
import { tokenProblem } from "../config/Settings.js"
import { TokenUnavailable } from "./ControllerError.js"

/** The source of the current bearer token. */
export class Token extends Context.Tag("pipeops-agent/controller/Token")<Token, {
  /** The token to send now. A file is stat'ed per call and re-read only when it changed. */
  readonly current: Effect.Effect<Redacted.Redacted<string>, TokenUnavailable>
}>() {
  /** A token that never changes. */
  static readonly fromValue = (token: Redacted.Redacted<string>): Layer.Layer<Token> =>
    Layer.succeed(Token, Token.of({ current: Effect.succeed(token) }))

  /**
   * A token read from `path`, trimmed. Fails at construction when the file is unreadable or
   * empty, so a bad mount is reported at start.
   */
  static readonly fromFile = (path: string): Layer.Layer<Token, TokenUnavailable, FileSystem.FileSystem> =>
    Layer.effect(Token, Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const cache = yield* Ref.make<Option.Option<{ readonly stamp: string; readonly token: Redacted.Redacted<string> }>>(Option.none())
      const unavailable = (reason: string) => new TokenUnavailable({ path, reason })
      const read = Effect.gen(function* () {
        const info = yield* fs.stat(path)
        const stamp = `${Option.getOrUndefined(info.mtime)?.getTime()}:${Option.getOrUndefined(info.ino)}:${info.size}`
        const cached = yield* Ref.get(cache)
        if (Option.isSome(cached) && cached.value.stamp === stamp) return cached.value.token
        const text = (yield* fs.readFileString(path)).trim()
        const problem = tokenProblem(text)
        if (problem !== undefined) return yield* unavailable(problem)
        const token = Redacted.make(text)
        yield* Ref.set(cache, Option.some({ stamp, token }))
        return token
      }).pipe(Effect.catchTag("SystemError", "BadArgument", (e) => Effect.fail(unavailable(e.message))))
      yield* read
      return Token.of({ current: read })
    }))

  /**
   * From configuration: `PIPEOPS_TOKEN`, else `PIPEOPS_TOKEN_FILE`. Neither, or an unreadable
   * file, fails at start naming the setting.
   */
  static readonly layerConfig: Layer.Layer<Token, ConfigError.ConfigError, FileSystem.FileSystem> = Layer.unwrapEffect(
    Effect.gen(function* () {
      const value = yield* Config.option(Config.redacted("PIPEOPS_TOKEN"))
      const file = yield* Config.option(Config.string("PIPEOPS_TOKEN_FILE"))
      if (Option.isSome(value)) return Token.fromValue(value.value)
      if (Option.isNone(file)) {
        return Layer.fail(ConfigError.MissingData(["PIPEOPS_TOKEN"], "set PIPEOPS_TOKEN or PIPEOPS_TOKEN_FILE"))
      }
      return Token.fromFile(file.value).pipe(Layer.catchAll((e) =>
        Layer.fail(ConfigError.InvalidData(["PIPEOPS_TOKEN_FILE"], e.message))))
    })
  )
}
