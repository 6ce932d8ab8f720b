import { describe, expect, it } from "@effect/vitest"
import { redact, showUrl } from "../../src/http/Redact.js"

describe("redact", () => {
  it.each([
    ["a known secret anywhere", `{"error":"bad token s3cr3t-value"}`, `{"error":"bad token <redacted>"}`],
    ["an echoed Authorization header", "got Authorization: Bearer abc.def-ghi", "got Authorization: Bearer <redacted>"],
    ["a JSON token field", `{"token":"xyz123","ok":false}`, `{"token":"<redacted>","ok":false}`],
    ["a query-string password", "GET /x?user=a&password=hunter2&b=1", "GET /x?user=a&password=<redacted>&b=1"],
    ["basic credentials", "Basic dXNlcjpwYXNz", "Basic <redacted>"]
  ])("replaces %s", (_, text, expected) => {
    expect(redact(text, ["s3cr3t-value"])).toBe(expected)
  })

  it("cuts long bodies short", () => {
    expect(redact("x".repeat(1000))).toHaveLength(201)
  })
})

describe("showUrl", () => {
  it("drops credentials, query and fragment", () => {
    expect(showUrl(new URL("https://user:pass@controller.example.com:8443/base/?token=t#f"))).toBe("https://controller.example.com:8443/base/")
  })
})
