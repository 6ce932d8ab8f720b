/**
 * Hostnames as Ingress rules and TLS entries spell them: normalisation, validation, wildcard
 * matching.
 */
import ipaddr from "ipaddr.js"

/** Lower-cased with one trailing dot removed; wildcards are kept as they are. */
export const normalizeHost = (host: string): string => host.trim().toLowerCase().replace(/\.$/, "")

// A DNS-1123 label: https://regex101.com/r/5nAJ1m/1
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/**
 * Whether a normalised host is a routable DNS name: DNS-1123 labels of at most 63 characters, at
 * most 253 in all, optionally behind one leading `*.` wildcard label. IP addresses, ports, empty
 * labels and a bare `*` are not.
 */
export const isValidHost = (host: string): boolean => {
  const name = host.startsWith("*.") ? host.slice(2) : host
  // ipaddr.js parses by throwing, which is slow: ask it only about names made of digits and dots.
  const mayBeIp = /^[\d.]+$/.test(name)
  if (name.length === 0 || host.length > 253 || (mayBeIp && ipaddr.IPv4.isValidFourPartDecimal(name))) return false
  return name.split(".").every((part) => part.length <= 63 && label.test(part))
}

/**
 * Whether a TLS host pattern covers a route host (both normalised): equal, or a `*.` pattern
 * covering exactly one label (`*.example.com` covers `a.example.com`, not `example.com` nor
 * `a.b.example.com`).
 */
export const tlsHostCovers = (pattern: string, host: string): boolean => {
  if (pattern === host) return true
  if (!pattern.startsWith("*.")) return false
  const dot = host.indexOf(".")
  return dot > 0 && !host.startsWith("*.") && host.slice(dot + 1) === pattern.slice(2)
}
