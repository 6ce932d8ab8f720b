/**
 * Runs a CommonJS bundle with the machine code a previous start compiled for it. V8 compiles a
 * function the first time it runs; a start of the agent compiles thousands of them, about a
 * third of its time to the first sync. A start saves what it compiled a while after starting
 * (`saveAfterMs`), and at exit when it found nothing to load; later starts load it instead of
 * compiling. A long-running start saves again, so a first start that only failed (a bad setting)
 * does not leave a cache of its few functions for good. Node's own compile cache (Node 22) saves
 * only what a module's loading compiled.
 *
 * A saved cache is used only for the same bundle text, Node version and V8 flags: its name is
 * their hash. V8 itself compares only the text's length and the flags, so the text's own hash is
 * what keeps a cache from another build out; a cache V8 refuses (flags, corruption) is saved anew.
 * Compiled code runs as it is loaded: the directory must be this user's alone (made by it, not
 * a link, writable by nobody else), or the cache is not used at all, so a shared temporary
 * directory cannot feed another user's code to the agent. Anything that fails — no directory, a
 * read-only file system — only leaves the cache unused.
 */
import { createHash } from "node:crypto"
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import Module, { createRequire } from "node:module"
import { basename, dirname, join } from "node:path"
import { Script } from "node:vm"

export interface CodeCacheOptions {
  /** Where caches are kept (made if missing); absent, or not this user's alone: none is read or saved. */
  readonly directory: string | undefined
  /** What besides the text decides the compiled code: Node's version and the V8 flags in effect. */
  readonly runtime: string
  /** How long after the start the compiled code is saved (at exit, if that comes first). */
  readonly saveAfterMs: number
}

/** What happened to the cache: `used` (and saved again after `saveAfterMs`), or saved for next time. */
export type CacheOutcome = "used" | "will-save" | "off"

/** `action`'s value, or undefined when it throws: the cache's failures only leave it unused. */
const attempt = <A>(action: () => A): A | undefined => {
  try {
    return action()
  } catch {
    return undefined
  }
}

/** `directory`, made if missing, when it is this user's alone: no other user can write into it. */
const ownDirectory = (directory: string): string | undefined => attempt(() => {
  mkdirSync(directory, { recursive: true, mode: 0o700 })
  const stat = lstatSync(directory)
  const ours = process.getuid === undefined || stat.uid === process.getuid()
  return stat.isDirectory() && ours && (stat.mode & 0o022) === 0 ? directory : undefined
})

/** Writes `data` to `file` whole or not at all: concurrent starts never read a partial file. */
const writeWhole = (file: string, data: Buffer): void => {
  const partial = `${file}.${process.pid}.partial`
  const written = attempt(() => {
    writeFileSync(partial, data)
    renameSync(partial, file)
    return true
  })
  if (written === undefined) attempt(() => rmSync(partial, { force: true }))
}

/** Runs the CommonJS file `file` as Node's loader would, through the code cache. */
export const runCommonJs = (file: string, options: CodeCacheOptions): CacheOutcome => {
  const source = readFileSync(file, "utf8")
  const key = createHash("sha256").update(options.runtime).update("\0").update(source).digest("hex").slice(0, 32)
  const directory = options.directory === undefined ? undefined : ownDirectory(options.directory)
  const cacheFile = directory === undefined ? undefined : join(directory, `${basename(file)}-${key}.bin`)
  const cached = cacheFile === undefined ? undefined : attempt(() => readFileSync(cacheFile))
  const script = new Script(Module.wrap(source), { filename: file, ...(cached === undefined ? {} : { cachedData: cached }) })
  const used = cached !== undefined && script.cachedDataRejected === false
  if (cacheFile !== undefined) {
    let saved = false
    const save = () => {
      if (saved) return
      saved = true
      writeWhole(cacheFile, script.createCachedData())
    }
    setTimeout(save, options.saveAfterMs).unref()
    if (!used) process.once("exit", save)
  }
  const module = { exports: {} }
  const body: unknown = script.runInThisContext()
  if (typeof body !== "function") throw new TypeError(`${file} did not compile to a module`)
  body.call(module.exports, module.exports, createRequire(file), module, file, dirname(file))
  return used ? "used" : cacheFile === undefined ? "off" : "will-save"
}
