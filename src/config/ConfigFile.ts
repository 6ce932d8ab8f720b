/**
 * The configuration file checked against the settings it may hold: a key that is not one (a typo
 * that would silently mean "no filter") or a value of the wrong shape is an error naming the key,
 * with the nearest valid key when one is close.
 */
import { Either } from "effect"
import { InvalidSetting } from "./Settings.js"

/** A file key and whether it takes a list. */
export interface FileKey {
  readonly key: string
  readonly list: boolean
}

const isMapping = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const isScalar = (value: unknown) => typeof value === "string" || typeof value === "number" || typeof value === "boolean"
const shapeOf = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "a list" : isMapping(value) ? "a mapping" : typeof value)

/** Edit distance between two keys (small strings: the plain dynamic programme). */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The valid key closest to `key`, if one is close enough to be what was meant. */
export const nearest = (key: string, valid: ReadonlyArray<string>): string | undefined => {
  const ranked = valid.map((k) => [k, distance(key, k)] as const).sort((x, y) => x[1] - y[1])
  const best = ranked[0]
  return best !== undefined && best[1] <= Math.max(2, Math.floor(key.length / 4)) ? best[0] : undefined
}

/** Checks a parsed file (`path` for the messages) against `keys`; the first problem found. */
export const checkConfigFile = (file: object, keys: ReadonlyArray<FileKey>, path: string): Either.Either<void, InvalidSetting> => {
  const valid = keys.map((k) => k.key)
  const sections = new Set(valid.map((k) => k.split(".")[0] ?? ""))
  const unknown = (key: string) => {
    const suggestion = nearest(key, [...valid, ...sections])
    return new InvalidSetting({ setting: key, reason: `not a setting (in ${path})${suggestion === undefined ? "" : `; did you mean ${suggestion}?`}` })
  }
  for (const [section, body] of Object.entries(file)) {
    if (!sections.has(section)) return Either.left(unknown(section))
    if (!isMapping(body)) return Either.left(new InvalidSetting({ setting: section, reason: `expected a mapping, got ${shapeOf(body)} (in ${path})` }))
    for (const [name, value] of Object.entries(body)) {
      const key = `${section}.${name}`
      const setting = keys.find((k) => k.key === key)
      if (setting === undefined) return Either.left(unknown(key))
      const fits = isScalar(value) || value === null || (setting.list && Array.isArray(value) && value.every(isScalar))
      if (!fits) {
        return Either.left(new InvalidSetting({ setting: key, reason: `expected ${setting.list ? "a list or a comma-separated string" : "a single value"}, got ${shapeOf(value)} (in ${path})` }))
      }
    }
  }
  return Either.void
}
