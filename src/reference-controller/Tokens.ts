/**
 * The reference controller's tokens: each bearer token is bound to one cluster UUID.
 */
import { Either } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"

/** Tokens and the cluster each may write. */
export type TokenBindings = ReadonlyMap<string, string>

/** One `TOKEN=CLUSTER_UUID` binding; `Left` says what is wrong without echoing the token. */
export const parseBinding = (spec: string): Either.Either<readonly [string, string], string> => {
  const at = spec.indexOf("=")
  const token = spec.slice(0, at).trim()
  const cluster = spec.slice(at + 1).trim()
  return at > 0 && token !== "" && cluster !== "" && !/\s/.test(token)
    ? Either.right([token, cluster])
    : Either.left("expected TOKEN=CLUSTER_UUID")
}

/**
 * A tokens file: one `TOKEN=CLUSTER_UUID` per line; blank lines and `#` comments ignored. `Left`
 * names the first bad line by number.
 */
export const parseTokensFile = (text: string): Either.Either<ReadonlyArray<readonly [string, string]>, string> =>
  Either.all(text.split("\n").flatMap((line, index) => {
    const content = line.trim()
    if (content === "" || content.startsWith("#")) return []
    return [Either.mapLeft(parseBinding(content), (reason) => `line ${index + 1}: ${reason}`)]
  }))

const digest = (text: string) => createHash("sha256").update(text).digest()

/**
 * The cluster a bearer token is bound to. Every known token is compared, each in constant time
 * (over digests of equal length), so the answer's timing tells nothing about a token's prefix.
 */
export const clusterOf = (tokens: TokenBindings, presented: string): string | undefined => {
  const given = digest(presented)
  let found: string | undefined
  for (const [token, cluster] of tokens) if (timingSafeEqual(digest(token), given)) found = cluster
  return found
}
