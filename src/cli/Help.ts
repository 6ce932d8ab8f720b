/**
 * Help as an operator reads it (kubectl's or external-dns's way): one line per flag with what it
 * does (its environment name and default are in its description), no colour codes, none of the
 * CLI library's generic sentences. Built from the commands' own option descriptions.
 */
import { Options } from "@effect/cli"
import type { HelpDoc } from "@effect/cli/HelpDoc"
import type { Span } from "@effect/cli/HelpDoc/Span"

/** What `--help` shows of one command. */
export interface CommandHelp {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly options: Options.Options<unknown>
}

const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

/** Everything `pick` finds in a doc, in order, looking through sequences and enumerations. */
const collect = <A>(doc: HelpDoc, pick: (doc: HelpDoc) => ReadonlyArray<A> | undefined): ReadonlyArray<A> => {
  const found = pick(doc)
  if (found !== undefined) return found
  if (doc._tag === "Sequence") return [...collect(doc.left, pick), ...collect(doc.right, pick)]
  return doc._tag === "Enumeration" ? doc.elements.flatMap((element) => collect(element, pick)) : []
}

const paragraphs = (doc: HelpDoc) => collect(doc, (d) => (d._tag === "Paragraph" ? [spanText(d.value)] : undefined))
const definitions = (doc: HelpDoc) => collect(doc, (d) => (d._tag === "DescriptionList" ? d.definitions : undefined))

// What the CLI library writes into every option's description: the type and the optionality.
const generic = /^(A user-defined piece of text|A true or false value|An integer|A file|This setting is optional|This option (may|must) be repeated)/

/** `--flag text` → `--flag VALUE`; repetition as `...`. */
const usageOf = (span: Span): string =>
  spanText(span).replace(/[()]/g, "").replace(/ 1\+$/, "...").replace(/ (text|file)/, " VALUE").replace(/ integer/, " N")

/** The flags of `options` that take a value (`--flag VALUE`), with their aliases. */
const valueFlags = (options: Options.Options<unknown>): ReadonlyArray<string> =>
  definitions(Options.getHelp(options)).flatMap(([span]) => {
    const usage = usageOf(span)
    return / (VALUE|N)/.test(usage) ? usage.replace(/ (VALUE|N).*$/, "").split(", ") : []
  })

/** A flag of the command in `args` that takes a value but is given none (last, or before another flag). */
export const missingValue = (args: ReadonlyArray<string>, commands: ReadonlyArray<CommandHelp>): string | undefined => {
  const command = commands.find((c) => c.name === args[0])
  if (command === undefined) return undefined
  const flags = new Set(valueFlags(command.options))
  return args.find((arg, i) => flags.has(arg) && (args[i + 1] === undefined || (args[i + 1] ?? "").startsWith("--")))
}

/** The flags of `options`, one aligned line each. */
export const flagLines = (options: Options.Options<unknown>): ReadonlyArray<string> => {
  const rows = definitions(Options.getHelp(options)).map(([span, doc]) =>
    [usageOf(span), paragraphs(doc).filter((p) => !generic.test(p)).join(" ")] as const)
  const width = Math.max(...rows.map(([flag]) => flag.length), "-h, --help".length)
  return [...rows, ["-h, --help", "this help"] as const].map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`)
}

/** A command's help. */
export const commandHelp = (command: CommandHelp): string =>
  [`Usage: pipeops-agent ${command.name} ${command.usage}`, "", command.summary, "", "Flags:", ...flagLines(command.options)].join("\n")

/** The program's help: its commands. */
export const programHelp = (commands: ReadonlyArray<CommandHelp>, version: string): string => {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    `pipeops-agent ${version}: keeps the PipeOps gateway's route registry in step with a cluster's Ingresses`, "",
    "Usage: pipeops-agent <command> [flags]", "", "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), "",
    "Run 'pipeops-agent <command> --help' for a command's flags; 'pipeops-agent --version' for the version."
  ].join("\n")
}

/** The help `args` ask for (`--help` or `-h`, or no command at all), if they ask for help. */
export const helpFor = (args: ReadonlyArray<string>, commands: ReadonlyArray<CommandHelp>, version: string): string | undefined => {
  const asked = args.includes("--help") || args.includes("-h")
  if (!asked && args.length > 0) return undefined
  const command = commands.find((c) => c.name === args.find((a) => !a.startsWith("-")))
  return command === undefined ? programHelp(commands, version) : commandHelp(command)
}
