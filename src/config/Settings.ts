/**
 * Validation of the operator's settings that shape routing. Each parser returns `Left` with a
 * reason; the caller names the setting (flag, environment variable or file key).
 */
import { Data, Either } from "effect"
import ipaddr from "ipaddr.js"
import { isIpAddress } from "../domain/Addresses.js"
import { isValidHost } from "../domain/Hostname.js"
import type { RoutingMode } from "../domain/Route.js"

/** A setting has a value that cannot be used; `setting` is the name the operator wrote. */
export class InvalidSetting extends Data.TaggedError("InvalidSetting")<{
  readonly setting: string
  readonly reason: string
}> {
  override get message(): string {
    return `invalid ${this.setting}: ${this.reason}`
  }
}

// A DNS-1123 label, as namespaces and Service names are: https://regex101.com/r/5nAJ1m/1
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** `namespace/name` of a Service. */
export const parseServiceRef = (value: string): Either.Either<string, string> => {
  const parts = value.split("/")
  return parts.length === 2 && parts.every((p) => p.length <= 63 && dnsLabel.test(p))
    ? Either.right(value)
    : Either.left(`expected namespace/name, got "${value}"`)
}

/** `direct` or `tunnel`. */
export const parseRoutingMode = (value: string): Either.Either<RoutingMode, string> =>
  value === "direct" || value === "tunnel" ? Either.right(value) : Either.left(`expected direct or tunnel, got "${value}"`)

// host:port, with an IPv6 host in brackets: https://regex101.com/r/0xXr4k/1
const endpointPattern = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/

const isEndpointHost = (host: string, bracketed: boolean): boolean =>
  bracketed ? ipaddr.IPv6.isValid(host) : isIpAddress(host) || (!host.includes("*") && isValidHost(host.toLowerCase()))

/** `address:port` as the controller expects it: an IPv4 address or DNS name, or `[IPv6]`, and a port. */
export const parseEndpoint = (value: string): Either.Either<string, string> => {
  const match = endpointPattern.exec(value)
  const bracketed = match?.[1] !== undefined
  const host = match?.[1] ?? match?.[2] ?? ""
  const port = Number(match?.[3])
  return match !== null && isEndpointHost(host, bracketed) && port >= 1 && port <= 65535
    ? Either.right(value)
    : Either.left(`expected address:port (IPv6 in brackets), got "${value}"`)
}

// Go-style durations: https://regex101.com/r/xT0bNw/1
const durationPart = /(\d+(?:\.\d+)?)(ms|s|m|h)/g
const unitMillis: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Go-style duration (`30s`, `5m`, `1h30m`, `500ms`) in milliseconds; it must be positive. */
export const parseDuration = (value: string): Either.Either<number, string> => {
  const text = value.trim()
  const parts = [...text.matchAll(durationPart)]
  const covered = parts.map((p) => p[0]).join("")
  const millis = parts.reduce((sum, p) => sum + Number(p[1]) * (unitMillis[p[2] ?? ""] ?? 0), 0)
  return parts.length > 0 && covered === text && millis > 0
    ? Either.right(millis)
    : Either.left(`expected a duration such as 30s, 5m or 1h30m, got "${value}"`)
}

/** An absolute http(s) URL. */
export const parseHttpUrl = (value: string): Either.Either<URL, string> => {
  const url = URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    // Echoed only when it cannot carry a credential (no "@", no query).
    return Either.left(/[@?]/.test(value) ? "expected an http(s) URL" : `expected an http(s) URL, got "${value}"`)
  }
  // Node would send user:password@ as Basic credentials, and paths are appended to the URL.
  if (url.username !== "" || url.password !== "") return Either.left("must not carry credentials (user:password@); the token goes in PIPEOPS_TOKEN")
  if (url.search !== "" || url.hash !== "") return Either.left("must not have a query or a fragment")
  return Either.right(url)
}

/** A TCP port to listen on, 0 to 65535 (0 picks a free port). */
export const parsePort = (value: string): Either.Either<number, string> => {
  const port = Number(value)
  return /^\d+$/.test(value.trim()) && port <= 65535 ? Either.right(port) : Either.left(`expected a port (0-65535), got "${value}"`)
}

/** `true` or `false`. */
/** A whole number from `min` to `max`. */
export const parseCount = (min: number, max: number) => (value: string): Either.Either<number, string> => {
  const count = Number(value.trim())
  return Number.isInteger(count) && count >= min && count <= max && value.trim() !== ""
    ? Either.right(count)
    : Either.left(`expected a whole number from ${min} to ${max}, got "${value}"`)
}

export const parseBoolean = (value: string): Either.Either<boolean, string> =>
  value === "true" ? Either.right(true) : value === "false" ? Either.right(false) : Either.left(`expected true or false, got "${value}"`)

// A DNS-1123 subdomain, as most object names are: https://regex101.com/r/4bH7fV/1
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** A namespace name (a DNS-1123 label). */
export const parseNamespace = (value: string): Either.Either<string, string> =>
  value.length <= 63 && dnsLabel.test(value) ? Either.right(value) : Either.left(`expected a namespace name, got "${value}"`)

/** An object name (a DNS-1123 subdomain). */
export const parseObjectName = (value: string): Either.Either<string, string> =>
  value.length <= 253 && dnsSubdomain.test(value) ? Either.right(value) : Either.left(`expected an object name, got "${value}"`)

/** Why a token cannot be sent as a Bearer credential, if it cannot: it must be visible ASCII without spaces. */
export const tokenProblem = (token: string): string | undefined =>
  token === "" ? "it is empty" : /^[\x21-\x7e]+$/.test(token) ? undefined
    : "it holds a character an HTTP header cannot carry (a space, a line break, a control or non-ASCII character)"
