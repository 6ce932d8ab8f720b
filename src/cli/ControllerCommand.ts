/**
 * `pipeops-agent controller`: the reference controller, for end-to-end tests and the demo.
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { FileSystem, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Either, Layer, Option } from "effect"
import { createServer } from "node:http"
import { InvalidSetting, parsePort } from "../config/Settings.js"
import type { CommandHelp } from "./Help.js"
import * as ReferenceController from "../reference-controller/Server.js"
import { parseBinding, parseTokensFile } from "../reference-controller/Tokens.js"

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

const options = {
  host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("address to listen on")),
  port: Options.integer("port").pipe(
    Options.withDefault(8090),
    Options.mapEffect((port) => Either.match(parsePort(String(port)), {
      onLeft: (reason) => Effect.fail(invalid(`invalid --port: ${reason}`)),
      onRight: Effect.succeed
    })),
    Options.withDescription("port to listen on; 0 picks a free one")),
  tokens: Options.text("token").pipe(
    Options.repeated,
    Options.mapEffect((specs) => Effect.forEach(specs, (spec) => Either.match(parseBinding(spec), {
      onLeft: (reason) => Effect.fail(invalid(`invalid --token: ${reason}`)),
      onRight: Effect.succeed
    }))),
    Options.withDescription("TOKEN=CLUSTER_UUID: a bearer token and the one cluster it may write (repeatable)")),
  tokensFile: Options.file("tokens-file").pipe(
    Options.optional,
    Options.withDescription("a file of TOKEN=CLUSTER_UUID lines"))
}

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

/** What `controller --help` shows. */
export const controllerHelp: CommandHelp = {
  name: "controller", usage: "--token TOKEN=CLUSTER_UUID [flags]", options: Options.all(options),
  summary: "run the reference controller (in-memory route registry), for tests and demos"
}

/** The `controller` subcommand: serves until interrupted (SIGINT/SIGTERM). */
export const controllerCommand = Command.make("controller", options, ({ host, port, tokens, tokensFile }) =>
  Effect.gen(function* () {
    const bound = yield* bindings(tokens, tokensFile)
    const server = NodeHttpServer.layer(() => createServer(), { host, port })
    const announce = Layer.effectDiscard(HttpServer.addressWith((address) =>
      Effect.logInfo("controller listening").pipe(Effect.annotateLogs({
        address: HttpServer.formatAddress(address),
        port: address._tag === "TcpAddress" ? address.port : 0,
        clusters: [...new Set(bound.values())].length
      }))))
    return yield* Layer.launch(Layer.mergeAll(ReferenceController.layer(bound), announce).pipe(Layer.provide(server)))
  })
).pipe(Command.withDescription(controllerHelp.summary))
