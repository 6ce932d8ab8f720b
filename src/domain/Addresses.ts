/**
 * Load balancer addresses: which are private (unreachable from the controller) and which public.
 */
import ipaddr from "ipaddr.js"

// ipaddr.js range names that mean "not reachable from the internet". Its `reserved`
// range holds the documentation prefixes, which count as public here.
const privateRanges: ReadonlySet<string> = new Set([
  "loopback", "unspecified", "linkLocal", "private", "carrierGradeNat", "uniqueLocal"
])

/** Whether `address` is an IPv4 address in dotted-quad form or any IPv6 address. */
export const isIpAddress = (address: string): boolean =>
  ipaddr.IPv4.isValidFourPartDecimal(address) || ipaddr.IPv6.isValid(address)

/**
 * Whether an IP address is private: loopback, unspecified, link-local, RFC 1918, CGNAT
 * (100.64/10), IPv6 ULA (fc00::/7) or link-local (fe80::/10), or an IPv4-mapped form of these.
 * Only meaningful for strings that satisfy `isIpAddress`.
 */
export const isPrivateIp = (address: string): boolean => privateRanges.has(ipaddr.process(address).range())

const privateSuffixes = [".local", ".internal", ".localdomain", ".cluster.local"]

/** Whether a load balancer hostname is private: it ends in one of the cluster-internal suffixes. */
export const isPrivateHostname = (hostname: string): boolean => {
  const name = hostname.toLowerCase().replace(/\.$/, "")
  return privateSuffixes.some((suffix) => name.endsWith(suffix))
}

/** `address:port`, with an IPv6 address in brackets. */
export const formatEndpoint = (address: string, port: number): string =>
  ipaddr.IPv6.isValid(address) ? `[${address}]:${port}` : `${address}:${port}`

/** An `address:port` (IPv6 in brackets) as its host and port; `undefined` when it is not one. */
export const splitEndpoint = (endpoint: string): { readonly host: string; readonly port: number } | undefined => {
  const at = endpoint.lastIndexOf(":")
  const port = Number(endpoint.slice(at + 1))
  const host = endpoint.slice(0, at).replace(/^\[(.*)\]$/, "$1")
  return at > 0 && Number.isInteger(port) && port > 0 && port < 65536 && host !== "" ? { host, port } : undefined
}
