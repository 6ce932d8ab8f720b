/**
 * `pipeops-agent controller`: the reference controller, for end-to-end tests and the demo.
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, Either, Option } from "effect"
import { parseEndpoint, parsePort } from "../config/Settings.js"
import type { CommandHelp } from "./Help.js"
import { parseBinding } from "../reference-controller/Tokens.js"

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

const checkPort = (flag: string, port: number) => Either.match(parsePort(String(port)), {
  onLeft: (reason) => Effect.fail(invalid(`invalid ${flag}: ${reason}`)),
  onRight: Effect.succeed
})

const options = {
  host: Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("address to listen on")),
  port: Options.integer("port").pipe(
    Options.withDefault(8090),
    Options.mapEffect((port) => checkPort("--port", port)),
    Options.withDescription("port to listen on; 0 picks a free one")),
  edgePort: Options.integer("edge-port").pipe(
    Options.optional,
    Options.mapEffect((port) => Option.match(port, { onNone: () => Effect.succeed(Option.none<number>()), onSome: (p) => Effect.map(checkPort("--edge-port", p), Option.some) })),
    Options.withDescription("also serve public traffic on this port: routed by Host through the registry, direct or over the tunnels")),
  resolve: Options.text("edge-resolve").pipe(
    Options.repeated,
    Options.mapEffect((specs) => Effect.forEach(specs, (spec) => {
      const [endpoint = "", address = ""] = spec.split("=")
      return Either.isRight(parseEndpoint(endpoint)) && Either.isRight(parseEndpoint(address))
        ? Effect.succeed([endpoint, address] as const)
        : Effect.fail(invalid(`invalid --edge-resolve: expected ENDPOINT=ADDRESS:PORT, got "${spec}"`))
    })),
    Options.withDescription("ENDPOINT=ADDRESS:PORT: the edge dials ADDRESS:PORT for direct routes to ENDPOINT (a public address on loopback; repeatable)")),
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

/** What `controller --help` shows. */
export const controllerHelp: CommandHelp = {
  name: "controller", usage: "--token TOKEN=CLUSTER_UUID [flags]", options: Options.all(options),
  summary: "run the reference controller (in-memory route registry), for tests and demos"
}

/** The `controller` subcommand as parsed; its bundle gives it the reference controller, which serves until interrupted (SIGINT/SIGTERM). */
export const controllerCommand = Command.make("controller", options).pipe(Command.withDescription(controllerHelp.summary))
