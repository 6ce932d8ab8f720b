/**
 * The Kubernetes API as the agent uses it: paged lists, watches as streams of decoded lines, and
 * the uid of a namespace. Configuration and authentication come from `@kubernetes/client-node`'s
 * KubeConfig (in-cluster service account, `KUBECONFIG`, `~/.kube/config`; token, client
 * certificate and exec auth; custom CA; `skipTLSVerify`); no library type leaves this module.
 */
import { KubeConfig } from "@kubernetes/client-node/dist/config.js"
import { Chunk, Config, ConfigError, Context, Duration, Effect, Either, Layer, Option, Schema, type Scope, Stream } from "effect"
import type { Lease, LeaseRecord } from "../domain/LeaderElection.js"
import { redact } from "../http/Redact.js"
import { KubernetesApiError } from "./KubernetesError.js"
import { decodeLease, leaseBody } from "./Lease.js"
import { parseWatchLine, type WatchEvent } from "./KubeObject.js"
import { collectionPath, type Resource } from "./Resources.js"
import { getLines, getText as fetchText, type JsonBody } from "./Transport.js"

/** Options of one list request (one page). */
export interface ListOptions {
  readonly namespace?: string | undefined
  /** Only objects whose labels match (the API server filters). */
  readonly labelSelector?: string | undefined
  readonly limit?: number | undefined
  readonly continueToken?: string | undefined
  readonly resourceVersion?: string | undefined
  readonly resourceVersionMatch?: "NotOlderThan" | "Exact" | undefined
}

/** One page of a list: its items (raw), the list's resourceVersion, and the next page's token. */
export interface ListPage {
  readonly resourceVersion: string
  readonly continueToken: string | undefined
  readonly items: ReadonlyArray<unknown>
}

/** Options of a watch request. */
export interface WatchOptions {
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
  readonly resourceVersion: string
  readonly timeoutSeconds: number
  readonly allowWatchBookmarks: boolean
}

/** The events of an open watch. */
export type WatchStream = Stream.Stream<WatchEvent, KubernetesApiError>

/** The API server, for what the agent reads. */
export class KubernetesApi extends Context.Tag("pipeops-agent/kubernetes/KubernetesApi")<KubernetesApi, {
  /** One page of a collection. `items: null` is read as `[]`. */
  readonly list: (resource: Resource, options: ListOptions) => Effect.Effect<ListPage, KubernetesApiError>
  /**
   * Opens a watch: succeeds once the server accepted it (200 and headers), fails with the error
   * status otherwise. The stream ends when the server closes the body cleanly and fails when the
   * body is cut short or a line does not decode; an in-stream ERROR is an event. Closing the
   * scope aborts the request.
   */
  readonly watch: (resource: Resource, options: WatchOptions) => Effect.Effect<WatchStream, KubernetesApiError, Scope.Scope>
  /** The uid of a namespace (the `kube-system` namespace's is the default cluster UUID). */
  readonly namespaceUid: (name: string) => Effect.Effect<string, KubernetesApiError>
  /** The API server's version (`gitVersion` of `/version`, e.g. `v1.31.2`). */
  readonly version: Effect.Effect<string, KubernetesApiError>
  /** Whether the API server serves `group/version` (discovery: 404 means not). */
  readonly serves: (groupVersion: string) => Effect.Effect<boolean, KubernetesApiError>
  /** A Lease; `undefined` when there is none (404). */
  readonly getLease: (namespace: string, name: string) => Effect.Effect<Lease | undefined, KubernetesApiError>
  /** Creates a Lease; one that exists fails with kind `Conflict`. */
  readonly createLease: (namespace: string, name: string, record: LeaseRecord) => Effect.Effect<Lease, KubernetesApiError>
  /** Replaces a Lease if it is still at `resourceVersion`; else fails with kind `Conflict` (someone else wrote). */
  readonly updateLease: (namespace: string, name: string, record: LeaseRecord, resourceVersion: string) => Effect.Effect<Lease, KubernetesApiError>
}>() {
  /**
   * Over a loaded KubeConfig. Every request but a watch must be answered in full within
   * `requestTimeout` (default 60 s); a watch must at least start (its headers) within it.
   */
  static readonly fromKubeConfig = (config: KubeConfig, requestTimeout: Duration.Duration = Duration.seconds(60)): Layer.Layer<KubernetesApi, ConfigError.ConfigError> =>
    Layer.effect(KubernetesApi, make(config, requestTimeout))

  /**
   * From the environment: the file `KUBECONFIG` names, else `~/.kube/config`, else the in-cluster
   * service account. Fails at start when none gives a cluster.
   */
  static readonly layerConfig: Layer.Layer<KubernetesApi, ConfigError.ConfigError> = Layer.unwrapEffect(
    Effect.gen(function* () {
      const file = yield* Config.option(Config.string("KUBECONFIG"))
      const config = new KubeConfig()
      const loaded = Either.try({
        try: () => Option.match(file, { onNone: () => config.loadFromDefault(), onSome: (path) => config.loadFromFile(path) }),
        // The YAML parser quotes the lines around a syntax error, which may hold a token: only its
        // first line (what is wrong, and where) is kept.
        catch: (e) => ConfigError.InvalidData(["KUBECONFIG"], `cannot load kubeconfig: ${redact((e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "")}`)
      })
      return Either.match(loaded, { onLeft: Layer.fail, onRight: () => KubernetesApi.fromKubeConfig(config) })
    }))
}

const ListBody = Schema.parseJson(Schema.Struct({
  metadata: Schema.optionalWith(Schema.Struct({
    resourceVersion: Schema.optional(Schema.String),
    continue: Schema.optional(Schema.String)
  }), { default: () => ({}) }),
  items: Schema.optionalWith(Schema.NullOr(Schema.Array(Schema.Unknown)), { default: () => [] })
}))
const decodeList = Schema.decodeUnknownEither(ListBody)

/**
 * Decodes the lines that arrived together, as one chunk: a stream pulled per event cost more than
 * the events. A line that does not decode fails the stream without the events before it in the
 * chunk; none of them was handled, so the re-watch from the last handled resourceVersion gets
 * them again.
 */
const parseLines = (lines: Chunk.Chunk<string>, operation: string): Effect.Effect<Chunk.Chunk<WatchEvent>, KubernetesApiError> => {
  const events: Array<WatchEvent> = []
  for (const line of lines) {
    if (line.trim() === "") continue
    const event = parseWatchLine(line)
    if (event._tag === "Left") return Effect.fail(new KubernetesApiError({ kind: "BadResponse", operation, message: event.left }))
    events.push(event.right)
  }
  return Effect.succeed(Chunk.unsafeFromArray(events))
}

const query = (entries: Record<string, string | number | boolean | undefined>): string => {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) params.set(key, String(value))
  const text = params.toString()
  return text === "" ? "" : `?${text}`
}

const make = (config: KubeConfig, requestTimeout: Duration.Duration) => Effect.gen(function* () {
  const server = config.getCurrentCluster()?.server
  if (server === undefined || server === "") {
    return yield* Effect.fail(ConfigError.InvalidData(["KUBECONFIG"], "the current context names no cluster server"))
  }
  const base = server.replace(/\/+$/, "")
  const url = (path: string) => new URL(`${base}${path}`)
  /** A hung request is a failure like any other: the caller backs off and retries. */
  const deadline = (operation: string) => Effect.timeoutFail({
    duration: requestTimeout,
    onTimeout: () => new KubernetesApiError({ kind: "Network", operation, message: `no answer within ${Duration.format(requestTimeout)}` })
  })
  const getText = (target: URL, operation: string, write?: JsonBody) => deadline(operation)(fetchText(config, target, operation, write))

  const list = Effect.fn("KubernetesApi.list")(function* (resource: Resource, options: ListOptions) {
    const operation = `list ${resource.plural}`
    const text = yield* getText(url(collectionPath(resource, options.namespace) + query({
      limit: options.limit, continue: options.continueToken, labelSelector: options.labelSelector,
      resourceVersion: options.resourceVersion, resourceVersionMatch: options.resourceVersionMatch
    })), operation)
    const body = yield* Either.mapLeft(decodeList(text), () =>
      new KubernetesApiError({ kind: "BadResponse", operation, message: "the list body is not a Kubernetes list" }))
    const { resourceVersion, continue: next } = body.metadata
    if (resourceVersion === undefined) {
      return yield* new KubernetesApiError({ kind: "BadResponse", operation, message: "the list has no metadata.resourceVersion" })
    }
    return { resourceVersion, continueToken: next === "" ? undefined : next, items: body.items ?? [] }
  })

  const watch = (resource: Resource, options: WatchOptions) => {
    const operation = `watch ${resource.plural}`
    return Effect.map(deadline(operation)(getLines(config, url(collectionPath(resource, options.namespace) + query({
      watch: true, resourceVersion: options.resourceVersion, labelSelector: options.labelSelector,
      allowWatchBookmarks: options.allowWatchBookmarks, timeoutSeconds: options.timeoutSeconds
    })), operation)), (lines): WatchStream => Stream.mapChunksEffect(lines, (chunk) => parseLines(chunk, operation)))
  }

  const Namespace = Schema.parseJson(Schema.Struct({ metadata: Schema.Struct({ uid: Schema.String }) }))
  const namespaceUid = Effect.fn("KubernetesApi.namespaceUid")(function* (name: string) {
    const operation = `get namespace ${name}`
    const text = yield* getText(url(`/api/v1/namespaces/${encodeURIComponent(name)}`), operation)
    const decoded = yield* Either.mapLeft(Schema.decodeUnknownEither(Namespace)(text), () =>
      new KubernetesApiError({ kind: "BadResponse", operation, message: "the namespace has no metadata.uid" }))
    return decoded.metadata.uid
  })

  const Version = Schema.parseJson(Schema.Struct({ gitVersion: Schema.String }))
  const version = Effect.gen(function* () {
    const text = yield* getText(url("/version"), "get version")
    const decoded = yield* Either.mapLeft(Schema.decodeUnknownEither(Version)(text), () =>
      new KubernetesApiError({ kind: "BadResponse", operation: "get version", message: "the version has no gitVersion" }))
    return decoded.gitVersion
  }).pipe(Effect.withSpan("KubernetesApi.version"))

  const leases = (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`
  const leaseOf = (operation: string) => (text: string) => Either.mapLeft(decodeLease(text), (message) =>
    new KubernetesApiError({ kind: "BadResponse", operation, message }))
  const getLease = (namespace: string, name: string) => {
    const operation = `get lease ${namespace}/${name}`
    return getText(url(`${leases(namespace)}/${encodeURIComponent(name)}`), operation).pipe(
      Effect.flatMap(leaseOf(operation)),
      Effect.catchIf((e) => e.status === 404, () => Effect.succeed(undefined)))
  }
  const createLease = (namespace: string, name: string, record: LeaseRecord) => {
    const operation = `create lease ${namespace}/${name}`
    return Effect.flatMap(getText(url(leases(namespace)), operation, { method: "POST", body: leaseBody(namespace, name, record) }), leaseOf(operation))
  }
  const updateLease = (namespace: string, name: string, record: LeaseRecord, resourceVersion: string) => {
    const operation = `update lease ${namespace}/${name}`
    const body = leaseBody(namespace, name, record, resourceVersion)
    return Effect.flatMap(getText(url(`${leases(namespace)}/${encodeURIComponent(name)}`), operation, { method: "PUT", body }), leaseOf(operation))
  }

  const serves = (groupVersion: string) => getText(url(`/apis/${groupVersion}`), `discover ${groupVersion}`).pipe(
    Effect.as(true),
    Effect.catchIf((e) => e.status === 404, () => Effect.succeed(false)))

  return KubernetesApi.of({ list, watch, namespaceUid, version, serves, getLease, createLease, updateLease })
})
