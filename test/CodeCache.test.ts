/**
 * A bundle run through the code cache: it runs the same whether the cache is absent, used, stale,
 * corrupt or unwritable, and a start after a saved one uses the saved code.
 */
import { describe, expect, it } from "@effect/vitest"
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCommonJs, type CodeCacheOptions } from "../src/CodeCache.js"

const text = (marker = "") => `const fs = require("node:fs"); fs.appendFileSync(__dirname + "/runs", "x"); module.exports = ${JSON.stringify(marker)}\n`

/**
 * A CommonJS file that counts its runs in `runs` beside it, through `require` and `__dirname`;
 * `copy` puts the same text in another directory. V8 keeps what this process compiled by file and
 * text and would not look at a cache for the same file again: a later start is a copy.
 */
interface Bundle {
  readonly dir: string
  readonly file: string
  readonly runs: () => number
  readonly copy: () => Bundle
}

const bundle = (source = text()): Bundle => {
  const dir = mkdtempSync(join(tmpdir(), "code-cache-"))
  const file = join(dir, "bundle.cjs")
  writeFileSync(file, source)
  return { dir, file, runs: () => readFileSync(join(dir, "runs"), "utf8").length, copy: () => bundle(source) }
}

const options = (directory: string | undefined): CodeCacheOptions => ({ directory, runtime: "test", saveAfterMs: 0 })

/** Waits for the save the first run scheduled (at once: `saveAfterMs` 0). */
const saved = () => new Promise((resolve) => setTimeout(resolve, 20))

/** A bundle run once, its code saved in `cache` as the file `name`. */
const firstStart = async (source?: string) => {
  const first = bundle(source)
  const cache = join(first.dir, "cache")
  runCommonJs(first.file, options(cache))
  await saved()
  const [name = ""] = readdirSync(cache)
  return { ...first, cache, name }
}

describe("runCommonJs", () => {
  it("saves the compiled code after the first run and uses it on the next", async () => {
    const { dir, file, runs, copy } = bundle()
    const cache = join(dir, "cache")
    expect(runCommonJs(file, options(cache))).toBe("will-save")
    expect(runs()).toBe(1)
    await saved()
    expect(readdirSync(cache)).toHaveLength(1)
    expect(runCommonJs(copy().file, options(cache))).toBe("used")
  })

  it("saves again after a start that used the cache (a first start may have run little)", async () => {
    const { cache, name, copy } = await firstStart()
    expect(runCommonJs(copy().file, options(cache))).toBe("used")
    rmSync(join(cache, name))
    await saved()
    expect(readdirSync(cache)).toEqual([name])
  })

  it("does not use the code of another text, nor of another runtime", async () => {
    const { cache, copy } = await firstStart(text("one"))
    expect(runCommonJs(copy().file, { ...options(cache), runtime: "other flags" })).toBe("will-save")
    expect(runCommonJs(bundle(text("two")).file, options(cache))).toBe("will-save")
  })

  it("runs with a corrupt cache, and replaces it", async () => {
    const { cache, name, copy } = await firstStart()
    writeFileSync(join(cache, name), "not compiled code")
    const corrupt = copy()
    expect(runCommonJs(corrupt.file, options(cache))).toBe("will-save")
    expect(corrupt.runs()).toBe(1)
    await saved()
    expect(runCommonJs(copy().file, options(cache))).toBe("used")
  })

  it("runs without a cache directory, and where none can be made", () => {
    const { file, runs } = bundle()
    expect(runCommonJs(file, options(undefined))).toBe("off")
    // A directory below a file cannot exist.
    expect(runCommonJs(file, options(join(file, "cache")))).toBe("off")
    expect(runs()).toBe(2)
  })

  it("neither reads nor writes a directory others can write to, nor a link", async () => {
    const { dir, cache, copy } = await firstStart()
    chmodSync(cache, 0o777)
    expect(runCommonJs(copy().file, options(cache))).toBe("off")
    chmodSync(cache, 0o700)
    const link = join(dir, "link")
    symlinkSync(cache, link)
    expect(runCommonJs(copy().file, options(link))).toBe("off")
    expect(runCommonJs(copy().file, options(cache))).toBe("used")
  })
})
