/**
 * Kubernetes label selectors in their string form (`app=web,tier!=db,env in (a,b),!legacy`).
 */
import { Either } from "effect"

/** One requirement of a selector; a selector matches when all of its requirements do. */
export type Requirement =
  | { readonly op: "in" | "notin"; readonly key: string; readonly values: ReadonlyArray<string> }
  | { readonly op: "exists" | "!exists"; readonly key: string }

/** A parsed selector; the empty selector matches everything. */
export interface LabelSelector {
  readonly source: string
  readonly requirements: ReadonlyArray<Requirement>
}

// A label key: optional DNS prefix and `/`, then a name: https://regex101.com/r/N4QZfV/1
const keyPattern = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
// A label value, possibly empty.
const valuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/
// One requirement: `!key`, `key`, `key op value` or `key in|notin (values)`.
const setPattern = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/
const equalityPattern = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/

/** Splits on commas outside parentheses. */
const splitTerms = (source: string): ReadonlyArray<string> => {
  const terms: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === "(") depth++
    else if (c === ")") depth--
    else if (c === "," && depth === 0) {
      terms.push(source.slice(start, i))
      start = i + 1
    }
  }
  terms.push(source.slice(start))
  return terms.map((t) => t.trim())
}

const parseTerm = (term: string): Either.Either<Requirement, string> => {
  const set = setPattern.exec(term)
  if (set) {
    const values = (set[3] ?? "").split(",").map((v) => v.trim())
    return checked({ op: set[2] === "in" ? "in" : "notin", key: set[1] ?? "", values })
  }
  const equality = equalityPattern.exec(term)
  if (equality) {
    return checked({ op: equality[2] === "!=" ? "notin" : "in", key: equality[1] ?? "", values: [equality[3] ?? ""] })
  }
  if (term.startsWith("!")) return checked({ op: "!exists", key: term.slice(1).trim() })
  return checked({ op: "exists", key: term })
}

const checked = (requirement: Requirement): Either.Either<Requirement, string> => {
  if (!keyPattern.test(requirement.key)) return Either.left(`invalid label key "${requirement.key}"`)
  if ("values" in requirement) {
    const bad = requirement.values.find((v) => !valuePattern.test(v) || v.length > 63)
    if (bad !== undefined) return Either.left(`invalid label value "${bad}"`)
  }
  return Either.right(requirement)
}

/** Parses a selector string; `Left` says what is wrong with it. */
export const parseLabelSelector = (source: string): Either.Either<LabelSelector, string> => {
  if (source.trim() === "") return Either.right({ source, requirements: [] })
  return Either.map(Either.all(splitTerms(source).map(parseTerm)), (requirements) => ({ source, requirements }))
}

const satisfies = (labels: Readonly<Record<string, string>>, requirement: Requirement): boolean => {
  const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined
  switch (requirement.op) {
    case "exists":
      return value !== undefined
    case "!exists":
      return value === undefined
    case "in":
      return value !== undefined && requirement.values.includes(value)
    case "notin":
      return value === undefined || !requirement.values.includes(value)
  }
}

/** Whether labels satisfy every requirement of the selector. */
export const matchesLabels = (selector: LabelSelector, labels: Readonly<Record<string, string>> = {}): boolean =>
  selector.requirements.every((requirement) => satisfies(labels, requirement))
