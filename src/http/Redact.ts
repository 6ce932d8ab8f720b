/**
 * Text from outside (a response body, a library's error) on its way into an error, a log line or
 * `/status`: cut short, with the secrets we know and anything that looks like a credential
 * replaced. A controller, or a proxy in front of it, may echo the request's Authorization header.
 */

/** At most this many characters of a body are kept. */
export const maxEchoedChars = 200

const credentialPatterns: ReadonlyArray<RegExp> = [
  // "Bearer <token>", "Basic <base64>": https://regex101.com/r/8YdQKk/1
  /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  // authorization / token / password / secret / api key fields, in JSON, headers or query strings: https://regex101.com/r/3mBv1c/1
  /("?(?:authorization|x-api-key|api[_-]?key|token|access[_-]?token|password|passwd|secret)"?\s*[:=]\s*"?)(?!(?:bearer|basic)\s|<redacted>)[^"\s,;&}]+/gi
]

/** `text` cut to `maxEchoedChars`, every secret and credential-looking value replaced by `<redacted>`. */
export const redact = (text: string, secrets: ReadonlyArray<string> = []): string => {
  let out = secrets.filter((s) => s.length >= 4).reduce((acc, secret) => acc.split(secret).join("<redacted>"), text)
  out = out.replace(credentialPatterns[0] ?? /$^/, (_, scheme: string) => `${scheme} <redacted>`)
  out = out.replace(credentialPatterns[1] ?? /$^/, (_, key: string) => `${key}<redacted>`)
  return out.length > maxEchoedChars ? `${out.slice(0, maxEchoedChars)}…` : out
}

/** A URL as it may be shown: without user, password, query and fragment. */
export const showUrl = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`
