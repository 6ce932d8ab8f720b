import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { matchesLabels, parseLabelSelector } from "../../src/domain/LabelSelector.js"

const labels = { app: "web", tier: "frontend", "example.com/team": "core" }

describe("parseLabelSelector", () => {
  it.each([
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["app!=api", true],
    ["missing!=x", true],
    ["app in (web, api)", true],
    ["app notin (web)", false],
    ["tier,app", true],
    ["!legacy", true],
    ["!app", false],
    ["example.com/team=core,tier in (frontend,backend),!legacy", true],
    ["app=web,tier=backend", false],
    ["missing", false],
    ["missing in (x)", false]
  ])("%j matches %s", (source, expected) => {
    expect(matchesLabels(Either.getOrThrow(parseLabelSelector(source)), labels)).toBe(expected)
  })

  it("accepts an empty value, which matches only an empty label", () => {
    const selector = Either.getOrThrow(parseLabelSelector("app="))
    expect(matchesLabels(selector, { app: "" })).toBe(true)
    expect(matchesLabels(selector, labels)).toBe(false)
  })

  it.each(["=web", "app=we b", "app in (a", "app=web,", "app=-x", "bad key!=x", "app in (a b)"])("rejects %j", (source) => {
    expect(Either.isLeft(parseLabelSelector(source))).toBe(true)
  })
})
