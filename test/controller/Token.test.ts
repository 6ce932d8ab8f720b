import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { mkdtempSync, renameSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Token } from "../../src/controller/Token.js"

const dir = mkdtempSync(join(tmpdir(), "token-"))

const withConfig = (entries: ReadonlyArray<readonly [string, string]>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))

const current = Effect.flatMap(Token, (token) => token.current).pipe(Effect.map(Redacted.value))

describe("Token", () => {
  it.effect("a token file is trimmed and re-read after an atomic swap, as a rotated Secret is", () =>
    Effect.gen(function* () {
      const file = join(dir, "rotating")
      writeFileSync(file, "first-token\n")
      const token = yield* Token.pipe(Effect.provide(Token.fromFile(file).pipe(Layer.provide(NodeContext.layer))))
      expect(Redacted.value(yield* token.current)).toBe("first-token")
      writeFileSync(`${file}.new`, "second-token-after-rotation\n")
      renameSync(`${file}.new`, file)
      expect(Redacted.value(yield* token.current)).toBe("second-token-after-rotation")
    }))

  it.effect("a token file that disappears fails the request with TokenUnavailable", () =>
    Effect.gen(function* () {
      const file = join(dir, "vanishing")
      writeFileSync(file, "token")
      const token = yield* Token.pipe(Effect.provide(Token.fromFile(file).pipe(Layer.provide(NodeContext.layer))))
      renameSync(file, `${file}.gone`)
      const error = yield* Effect.flip(token.current)
      expect(error._tag).toBe("TokenUnavailable")
      expect(error.message).toContain(file)
    }))

  it.effect("PIPEOPS_TOKEN is used as is, redacted", () =>
    Effect.gen(function* () {
      expect(yield* current.pipe(Effect.provide(Token.layerConfig.pipe(
        Layer.provide(NodeContext.layer), Layer.provide(withConfig([["PIPEOPS_TOKEN", "from-env"]])))))).toBe("from-env")
    }))

  it.effect("PIPEOPS_TOKEN_FILE is read from the file", () =>
    Effect.gen(function* () {
      const file = join(dir, "configured")
      writeFileSync(file, "from-file")
      expect(yield* current.pipe(Effect.provide(Token.layerConfig.pipe(
        Layer.provide(NodeContext.layer), Layer.provide(withConfig([["PIPEOPS_TOKEN_FILE", file]])))))).toBe("from-file")
    }))

  it.effect.each([
    ["neither is set", [], "PIPEOPS_TOKEN"],
    ["the file is missing", [["PIPEOPS_TOKEN_FILE", join(dir, "missing")]], "PIPEOPS_TOKEN_FILE"],
    ["the file is empty", [["PIPEOPS_TOKEN_FILE", join(dir, "empty")]], "PIPEOPS_TOKEN_FILE"]
  ] as const)("fails at start naming the setting when %s", ([, entries, setting]) =>
    Effect.gen(function* () {
      writeFileSync(join(dir, "empty"), "\n")
      const error = yield* Effect.flip(current.pipe(Effect.provide(Token.layerConfig.pipe(
        Layer.provide(NodeContext.layer), Layer.provide(withConfig(entries))))))
      expect(String(error)).toContain(setting)
    }))
})
