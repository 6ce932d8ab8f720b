/**
 * The cluster's UUID: configured, else the `kube-system` namespace's uid. Read at start with
 * retries: an API server that is briefly unreachable (or answers 5xx, 429, 401) is waited for while
 * readiness says why, never a crash loop; a namespace that does not exist or may not be read ends
 * the start with what to set.
 */
import { Duration, Effect, Option, Ref, Schedule, Schema, type Scope } from "effect"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import type { KubernetesApiError } from "../kubernetes/KubernetesError.js"
import { Probes } from "../observability/Probes.js"

/** The UUID cannot be read, and retrying will not change that. */
export class ClusterUuidUnavailable extends Schema.TaggedError<ClusterUuidUnavailable>()("ClusterUuidUnavailable", {
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot determine the cluster UUID: ${this.reason}`
  }
}

/** Reading the namespace again: from 1 s, doubling, capped at 30 s. */
export const uuidRetry = Schedule.exponential(Duration.seconds(1)).pipe(Schedule.modifyDelay((_, d) => Duration.min(d, Duration.seconds(30))))

const setIt = "set --cluster-uuid (PIPEOPS_CLUSTER_UUID)"

/** The failures no retry mends, with what the operator should do. */
const terminal = (error: KubernetesApiError): string | undefined => {
  if (error.kind === "Forbidden") return `reading the kube-system namespace is forbidden (403): grant get on namespaces/kube-system, as deploy/rbac.yaml does, or ${setIt}`
  if (error.kind === "NotServed") return `the kube-system namespace does not exist (404): ${setIt}`
  if (error.kind === "Rejected") return `the API server refused to read the kube-system namespace (${error.status ?? "4xx"}): ${setIt}`
  return undefined
}

/** The UUID to report: `configured`, else the kube-system namespace's uid. */
export const resolveClusterUuid = (configured: string | undefined): Effect.Effect<string, ClusterUuidUnavailable, KubernetesApi | Probes | Scope.Scope> =>
  configured !== undefined ? Effect.succeed(configured) : Effect.gen(function* () {
    const api = yield* KubernetesApi
    const problem = yield* Ref.make<Option.Option<string>>(Option.none())
    yield* (yield* Probes).add({
      readiness: Effect.map(Ref.get(problem), Option.match({ onNone: () => [], onSome: (p) => [`cluster UUID not read yet: ${p}`] }))
    })
    const failed = (error: KubernetesApiError) => Effect.gen(function* () {
      const before = yield* Ref.getAndSet(problem, Option.some(`${error.kind}: ${error.message}`))
      if (Option.isNone(before) && terminal(error) === undefined) {
        yield* Effect.logWarning("cannot read the kube-system namespace yet; retrying").pipe(Effect.annotateLogs({ kind: error.kind, error: error.message }))
      }
    })
    const uid = yield* api.namespaceUid("kube-system").pipe(
      Effect.tapError(failed),
      Effect.retry({ schedule: uuidRetry, while: (error) => terminal(error) === undefined }),
      Effect.mapError((error) => new ClusterUuidUnavailable({ reason: terminal(error) ?? error.message })))
    yield* Ref.set(problem, Option.none())
    return uid
  })
