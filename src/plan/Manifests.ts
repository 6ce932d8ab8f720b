/**
 * Kubernetes manifests on disk: YAML or JSON files, multi-document, `List` kinds, directories.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Schema } from "effect"
import * as path from "node:path"
import { parseAllDocuments } from "yaml"

/** A manifest file could not be read or parsed; `path` names it. */
export class ManifestError extends Schema.TaggedError<ManifestError>()("ManifestError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.path}: ${this.reason}`
  }
}

/** One object found in a manifest, with the file it came from. */
export interface ManifestObject {
  readonly source: string
  readonly object: Readonly<Record<string, unknown>>
}

const manifestExtensions = new Set([".yaml", ".yml", ".json"])

/** Whether a parsed value is a JSON object. */
export const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The objects of a document: a `List` or `*List` contributes its items (an item without `kind`
 * takes it from the list's, `IngressList` → `Ingress`), anything else itself. Empty documents and
 * scalars contribute nothing.
 */
export const objectsOf = (document: unknown): ReadonlyArray<Readonly<Record<string, unknown>>> => {
  if (!isRecord(document)) return []
  const kind = typeof document["kind"] === "string" ? document["kind"] : ""
  if (!kind.endsWith("List") || !Array.isArray(document["items"])) return [document]
  const itemKind = kind === "List" ? undefined : kind.slice(0, -"List".length)
  return document["items"].filter(isRecord).flatMap((item) =>
    objectsOf(itemKind !== undefined && item["kind"] === undefined
      ? { kind: itemKind, apiVersion: document["apiVersion"], ...item }
      : item))
}

/** Parses the YAML (or JSON) text of one file into its objects; a syntax error names the file. */
export const parseManifest = (source: string, text: string): Effect.Effect<ReadonlyArray<ManifestObject>, ManifestError> => {
  const documents = parseAllDocuments(text)
  const all = Array.isArray(documents) ? documents : []
  const broken = all.find((doc) => doc.errors.length > 0)
  if (broken) {
    const reason = `invalid YAML: ${broken.errors[0]?.message.split("\n")[0] ?? "parse error"}`
    return Effect.fail(new ManifestError({ path: source, reason }))
  }
  // Resolving aliases can blow up (a "billion laughs" file): the parser refuses past 100 aliases,
  // by throwing; that is bad input, reported like a syntax error.
  return Effect.try({
    try: () => all.flatMap((doc) => objectsOf(doc.toJS({ maxAliasCount: 100 })).map((object) => ({ source, object }))),
    catch: (e) => new ManifestError({ path: source, reason: `invalid YAML: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` })
  })
}

/** The manifest files under a path: the file itself, or a directory's `.yaml`/`.yml`/`.json` files, recursively, sorted. */
const manifestFiles = Effect.fn("Manifests.files")(function* (target: string) {
  const fs = yield* FileSystem.FileSystem
  const fail = (reason: string) => new ManifestError({ path: target, reason })
  const info = yield* fs.stat(target).pipe(Effect.mapError((e) => fail(e.message)))
  if (info.type !== "Directory") return [target]
  const entries = yield* fs.readDirectory(target, { recursive: true }).pipe(Effect.mapError((e) => fail(e.message)))
  return entries.filter((e) => manifestExtensions.has(path.extname(e))).sort().map((e) => path.join(target, e))
})

/** Reads every object of the given files and directories, in order. */
export const readManifests = Effect.fn("Manifests.read")(function* (targets: ReadonlyArray<string>) {
  const fs = yield* FileSystem.FileSystem
  const files = (yield* Effect.forEach(targets, manifestFiles)).flat()
  const objects = yield* Effect.forEach(files, (file) =>
    fs.readFileString(file).pipe(
      Effect.mapError((e) => new ManifestError({ path: file, reason: e.message })),
      Effect.flatMap((text) => parseManifest(file, text))))
  return objects.flat()
})
