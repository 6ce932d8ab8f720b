/**
 * A complete list of a resource, page by page.
 */
import { Effect } from "effect"
import type { KubernetesApi } from "./KubernetesApi.js"
import type { KubernetesApiError } from "./KubernetesError.js"
import type { Resource } from "./Resources.js"

/** One snapshot: every item and the list's resourceVersion. */
export interface Listed {
  readonly resourceVersion: string
  readonly items: ReadonlyArray<unknown>
}

export interface ListAllOptions {
  readonly namespace: string | undefined
  readonly labelSelector: string | undefined
  readonly pageSize: number
  /**
   * A relist asks for a state not older than this resourceVersion, unpaged, so a cache can serve
   * it; when that version is unavailable (410, or 504 "too large") it falls back to a fresh list.
   */
  readonly since: string | undefined
}

const isUnavailableVersion = (error: KubernetesApiError): boolean => error.kind === "Expired" || error.status === 504

/**
 * Lists every page, following `continue` until it is empty. A `continue` token that expired (410)
 * restarts the list from the beginning, once.
 */
export const listAll = (
  api: KubernetesApi["Type"],
  resource: Resource,
  options: ListAllOptions
): Effect.Effect<Listed, KubernetesApiError> => {
  const fresh = paged(api, resource, options)
  if (options.since === undefined) return fresh.pipe(Effect.catchIf((e) => e.kind === "Expired", () => fresh))
  return paged(api, resource, options, { resourceVersion: options.since, resourceVersionMatch: "NotOlderThan" }).pipe(
    Effect.catchIf(isUnavailableVersion, () => fresh.pipe(Effect.catchIf((e) => e.kind === "Expired", () => fresh))))
}

const paged = (
  api: KubernetesApi["Type"],
  resource: Resource,
  options: ListAllOptions,
  first: { readonly resourceVersion: string; readonly resourceVersionMatch: "NotOlderThan" } | undefined = undefined
) => Effect.gen(function* () {
  const scope = { namespace: options.namespace, labelSelector: options.labelSelector }
  let page = yield* api.list(resource, first === undefined ? { ...scope, limit: options.pageSize } : { ...scope, ...first })
  const resourceVersion = page.resourceVersion
  const items = [...page.items]
  while (page.continueToken !== undefined) {
    page = yield* api.list(resource, { ...scope, limit: options.pageSize, continueToken: page.continueToken })
    items.push(...page.items)
  }
  return { resourceVersion, items }
})
