import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isRecord, objectsOf, parseManifest, readManifests } from "../../src/plan/Manifests.js"

const kinds = (objects: ReadonlyArray<{ readonly object: Readonly<Record<string, unknown>> }>) =>
  objects.map(({ object }) => {
    const meta = object["metadata"]
    return `${String(object["kind"])}/${isRecord(meta) ? String(meta["name"]) : ""}`
  })

describe("objectsOf", () => {
  it("flattens List and *List kinds; a typed list names its items' kind", () => {
    const list = {
      apiVersion: "v1", kind: "List",
      items: [{ kind: "Service", metadata: { name: "a" } }, { kind: "IngressList", apiVersion: "networking.k8s.io/v1", items: [{ metadata: { name: "b" } }] }]
    }
    expect(objectsOf(list).map((o) => [o["kind"], o["apiVersion"]])).toEqual([["Service", undefined], ["Ingress", "networking.k8s.io/v1"]])
  })

  it("ignores scalars, nulls and arrays", () => {
    expect(objectsOf(null)).toEqual([])
    expect(objectsOf("text")).toEqual([])
    expect(objectsOf([{ kind: "Service" }])).toEqual([])
  })
})

describe("parseManifest", () => {
  it.effect("reads multi-document YAML and skips empty documents", () =>
    Effect.gen(function* () {
      const objects = yield* parseManifest("m.yaml", "---\nkind: Service\nmetadata: {name: a}\n---\n---\n# comment\n---\nkind: Ingress\nmetadata: {name: b}\n")
      expect(kinds(objects)).toEqual(["Service/a", "Ingress/b"])
    }))

  it.effect("reads JSON", () =>
    Effect.gen(function* () {
      const objects = yield* parseManifest("m.json", JSON.stringify({ kind: "Service", metadata: { name: "a" } }))
      expect(kinds(objects)).toEqual(["Service/a"])
    }))

  it.effect("names the file on invalid YAML", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(parseManifest("broken.yaml", "kind: Service\n  metadata: : {\n"))
      expect(error.message).toMatch(/^broken\.yaml: invalid YAML/)
    }))
})

describe("readManifests", () => {
  const dir = mkdtempSync(join(tmpdir(), "manifests-"))
  mkdirSync(join(dir, "nested"))
  writeFileSync(join(dir, "b.yaml"), "kind: Service\nmetadata: {name: b}\n")
  writeFileSync(join(dir, "a.yml"), "kind: Service\nmetadata: {name: a}\n")
  writeFileSync(join(dir, "nested", "c.json"), `{"kind": "Service", "metadata": {"name": "c"}}`)
  writeFileSync(join(dir, "notes.txt"), "not a manifest")

  it.effect("reads a directory's manifest files recursively, in name order", () =>
    Effect.gen(function* () {
      expect(kinds(yield* readManifests([dir]))).toEqual(["Service/a", "Service/b", "Service/c"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("names a missing file", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(readManifests([join(dir, "missing.yaml")]))
      expect(Either.isLeft(result) && result.left.path).toBe(join(dir, "missing.yaml"))
    }).pipe(Effect.provide(NodeContext.layer)))
})
