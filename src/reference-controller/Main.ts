/**
 * What `controller` does: bind the tokens, serve the API, the tunnel endpoint and the edge until
 * interrupted.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Either, Option } from "effect"
import { InvalidSetting } from "../config/Settings.js"
import { serve } from "./Serve.js"
import { parseTokensFile } from "./Tokens.js"

/** The bindings from the flags and the file; at least one is required. */
const bindings = (tokens: ReadonlyArray<readonly [string, string]>, file: Option.Option<string>) =>
  Effect.gen(function* () {
    const fromFile = Option.isNone(file) ? [] : yield* FileSystem.FileSystem.pipe(
      Effect.flatMap((fs) => fs.readFileString(file.value)),
      Effect.mapError((e) => new InvalidSetting({ setting: "--tokens-file", reason: e.message })),
      Effect.flatMap((text) => Either.match(parseTokensFile(text), {
        onLeft: (reason) => Effect.fail(new InvalidSetting({ setting: "--tokens-file", reason })),
        onRight: Effect.succeed
      })))
    const all = new Map([...fromFile, ...tokens])
    if (all.size === 0) return yield* new InvalidSetting({ setting: "--token", reason: "at least one token is required" })
    return all
  })

export interface ControllerArgs {
  readonly host: string
  readonly port: number
  readonly edgePort: Option.Option<number>
  readonly resolve: ReadonlyArray<readonly [string, string]>
  readonly tokens: ReadonlyArray<readonly [string, string]>
  readonly tokensFile: Option.Option<string>
}

export const serveController = ({ host, port, edgePort, resolve, tokens, tokensFile }: ControllerArgs) =>
  Effect.gen(function* () {
    const bound = yield* bindings(tokens, tokensFile)
    const serving = yield* serve(bound, { host, port, edgePort: Option.getOrUndefined(edgePort), resolve: new Map(resolve) }).pipe(
      Effect.mapError((e) => new InvalidSetting({ setting: e.listener === "api" ? "--port" : "--edge-port", reason: e.reason })))
    yield* Effect.logInfo("controller listening").pipe(Effect.annotateLogs({
      address: `http://${host}:${serving.port}`, port: serving.port, edge_port: serving.edgePort ?? null,
      clusters: [...new Set(bound.values())].length
    }))
    return yield* Effect.never
  }).pipe(Effect.scoped)

