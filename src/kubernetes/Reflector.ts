/**
 * A reflector keeps a local cache of one resource in step with the API server and emits every
 * change of it as a stream of cache events. One fiber lists, then
 * watches from the list's resourceVersion, re-watching on a clean close and relisting on 410 or an
 * error event; it never gives up and never loses a delete across reconnects.
 */
import { type Chunk, Clock, Data, Deferred, Duration, Effect, Option, Queue, Random, Ref, type Scope, Stream } from "effect"
import { CacheEvent, applyWatchEvent, replaceAll, type ObjectCache } from "./CacheEvent.js"
import { KubernetesApi } from "./KubernetesApi.js"
import { KubernetesApiError, kindOfStatus } from "./KubernetesError.js"
import { normalize, type KubeObject, type WatchEvent, type WatchStatus } from "./KubeObject.js"
import { listAll } from "./ListAll.js"
import { initialStatus, withEvent, withRestart, type ReflectorStatus, type RestartReason } from "./ReflectorStatus.js"
import type { Resource } from "./Resources.js"
import { makeBackoff, type BackoffPolicy, defaultBackoffPolicy } from "./WatchBackoff.js"

/** The knobs of a reflector; the defaults follow client-go. */
export interface ReflectorOptions {
  /** Watch one namespace instead of the whole cluster. */
  readonly namespace?: string | undefined
  /** Watch only objects whose labels match (filtered by the API server). */
  readonly labelSelector?: string | undefined
  readonly pageSize: number
  /** `timeoutSeconds` of each watch is drawn uniformly from this range. */
  readonly watchTimeoutSeconds: readonly [number, number]
  /** A watch with no event (bookmarks included) for this long is replaced. */
  readonly inactivity: Duration.Duration
  /** A watch still open this long after its `timeoutSeconds` is replaced. */
  readonly deadlineSlack: Duration.Duration
  /** A clean close sooner than this with no event counts as a failure (the hot-loop guard). */
  readonly veryShort: Duration.Duration
  readonly backoff: BackoffPolicy
  /** Events buffered for a slow consumer before the reflector waits for it. */
  readonly buffer: number
}

export const defaultReflectorOptions: ReflectorOptions = {
  pageSize: 500,
  watchTimeoutSeconds: [300, 600],
  inactivity: Duration.seconds(120),
  deadlineSlack: Duration.seconds(30),
  veryShort: Duration.seconds(1),
  backoff: defaultBackoffPolicy,
  buffer: 1024
}

/** A running reflector. */
export interface Reflector {
  readonly resource: Resource
  /** Every change of the cache, in order; `Synced` after the first complete list. One consumer. */
  readonly events: Stream.Stream<CacheEvent>
  readonly status: Effect.Effect<ReflectorStatus>
  /** Completes once the first complete list has been emitted. */
  readonly synced: Effect.Effect<void>
}

/** The warning that opens a failure streak, per way of failing. */
const failureMessages: Readonly<Partial<Record<RestartReason, string>>> & Record<"list_failed", string> = {
  list_failed: "list failed",
  watch_failed: "watch failed",
  stream_failed: "watch broke off",
  error_event: "watch ended with an error",
  very_short: "watch closed right after it started"
}

class Inactive extends Data.TaggedError("Inactive") {}
class DeadlinePassed extends Data.TaggedError("DeadlinePassed") {}
class ErrorEvent extends Data.TaggedError("ErrorEvent")<{ readonly status: WatchStatus }> {}

/** What the current watch has delivered: how many events, and when the last one came. */
interface Seen {
  events: number
  lastAt: number
}

/** How one watch ended. */
type WatchEnd =
  | { readonly _tag: "Closed"; readonly events: number; readonly elapsedMillis: number }
  | { readonly _tag: "Inactive" | "DeadlinePassed" }
  | { readonly _tag: "ErrorEvent"; readonly status: WatchStatus }
  | { readonly _tag: "Failed"; readonly error: KubernetesApiError }

const resourceVersionOf = (raw: unknown): string | undefined => {
  if (typeof raw !== "object" || raw === null || !("metadata" in raw)) return undefined
  const meta = raw.metadata
  return typeof meta === "object" && meta !== null && "resourceVersion" in meta && typeof meta.resourceVersion === "string"
    ? meta.resourceVersion
    : undefined
}

/** Starts a reflector for `resource` in the current scope; closing the scope stops it quietly. */
export const makeReflector = (
  resource: Resource,
  options: ReflectorOptions = defaultReflectorOptions
): Effect.Effect<Reflector, never, KubernetesApi | Scope.Scope> => Effect.gen(function* () {
  const api = yield* KubernetesApi
  const queue = yield* Queue.bounded<CacheEvent>(options.buffer)
  // One reflector per namespace when the agent watches only some: each named for its namespace.
  const status = yield* Ref.make(initialStatus(options.namespace === undefined ? resource.plural : `${resource.plural}/${options.namespace}`))
  const syncedSignal = yield* Deferred.make<void>()
  const backoff = yield* makeBackoff(options.backoff)
  const cache: ObjectCache = new Map()
  const annotate = Effect.annotateLogs({ resource: resource.plural, ...(options.namespace === undefined ? {} : { namespace: options.namespace }) })

  const restart = (reason: RestartReason, error?: KubernetesApiError) => Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Ref.update(status, (s) => ({
      ...withRestart(s, reason, now),
      ...(error === undefined ? {} : { condition: error.kind, lastError: error.message })
    })))

  /** Waits out the backoff after a normal restart (a 410 or an expired version: a relist is routine). */
  const pause = (failure: KubernetesApiError | undefined) => Effect.flatMap(backoff.next(failure), Effect.sleep)

  /**
   * A failure: counted, and the first of a streak logged as a warning with its status and when the
   * next try comes (later ones only counted: a failing server is not a log flood). Then the wait.
   */
  const failed = (reason: RestartReason, error: KubernetesApiError | undefined, relist: boolean) => Effect.gen(function* () {
    const delay = yield* backoff.next(error)
    const now = yield* Clock.currentTimeMillis
    const before = yield* Ref.getAndUpdate(status, (s) => ({
      ...withRestart(s, reason, now), failingSince: s.failingSince ?? now,
      ...(error === undefined ? {} : { condition: error.kind, lastError: error.message })
    }))
    if (before.failingSince === undefined) {
      yield* Effect.logWarning(failureMessages[reason] ?? reason).pipe(Effect.annotateLogs({
        ...(error === undefined ? {} : { kind: error.kind, error: error.message }),
        ...(error?.status === undefined ? {} : { status: error.status }),
        next_try_in: Duration.format(delay)
      }))
    }
    yield* Effect.sleep(delay)
    return relist
  })

  /** The list or watch works again: the streak is over. */
  const recovered = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const before = yield* Ref.getAndUpdate(status, (s) => ({ ...s, condition: undefined, failingSince: undefined }))
    if (before.failingSince !== undefined) {
      yield* Effect.logInfo("watch recovered").pipe(Effect.annotateLogs({ failing_for: Duration.format(Duration.millis(now - before.failingSince)) }))
    }
  })

  const skipInvalid = (raw: unknown) =>
    Effect.logWarning("object without metadata.name skipped").pipe(Effect.annotateLogs({ rv: resourceVersionOf(raw) ?? "" }))

  /**
   * Applies the events that arrived together, with one status update and one offer: per-event
   * effects cost more than the events. An ERROR event fails the watch after the events before it.
   */
  const handle = (seen: Seen) => (events: Chunk.Chunk<WatchEvent>): Effect.Effect<void, ErrorEvent> => Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    seen.lastAt = now
    const counted: Array<{ readonly type: string; readonly rv: string | undefined }> = []
    const changes: Array<CacheEvent> = []
    const reports: Array<Effect.Effect<void>> = []
    let error: WatchStatus | undefined
    for (const event of events) {
      seen.events += 1
      if (event.type === "ERROR") {
        counted.push({ type: "ERROR", rv: undefined })
        error = event.status
        break
      }
      if (event.type === "UNKNOWN") {
        reports.push(Effect.logDebug("unknown watch event ignored").pipe(Effect.annotateLogs({ type: event.name })))
        continue
      }
      counted.push({ type: event.type, rv: resourceVersionOf(event.object) })
      if (event.type === "BOOKMARK") continue
      const object = normalize(resource, event.object)
      if (Option.isNone(object)) {
        reports.push(skipInvalid(event.object))
        continue
      }
      const change = applyWatchEvent(cache, event.type, object.value)
      if (Option.isSome(change)) changes.push(change.value)
    }
    yield* Ref.update(status, (s) => counted.reduce((next, { type, rv }) => withEvent(next, type, now, rv), s))
    yield* Effect.all(reports, { discard: true })
    yield* Queue.offerAll(queue, changes)
    if (error !== undefined) return yield* new ErrorEvent({ status: error })
  })

  /**
   * Fails once no event (bookmarks included) came for `inactivity`: one timer per quiet spell.
   * `Stream.timeoutFail` raced a fiber against every pull, which at a few events a second was most
   * of the reflector's cost.
   */
  const inactive = (seen: Seen) => Effect.gen(function* () {
    const limit = Duration.toMillis(options.inactivity)
    for (;;) {
      const quiet = (yield* Clock.currentTimeMillis) - seen.lastAt
      if (quiet >= limit) return yield* new Inactive()
      yield* Effect.sleep(Duration.millis(limit - quiet))
    }
  })

  const watchOnce = (resourceVersion: string): Effect.Effect<WatchEnd> => Effect.gen(function* () {
    const timeoutSeconds = yield* Random.nextIntBetween(options.watchTimeoutSeconds[0], options.watchTimeoutSeconds[1] + 1)
    const started = yield* Clock.currentTimeMillis
    const seen: Seen = { events: 0, lastAt: started }
    const closed = Effect.gen(function* () {
      const elapsedMillis = (yield* Clock.currentTimeMillis) - started
      return { _tag: "Closed", events: seen.events, elapsedMillis } as const
    })
    const consume = Effect.gen(function* () {
      const events = yield* api.watch(resource, { namespace: options.namespace, labelSelector: options.labelSelector, resourceVersion, timeoutSeconds, allowWatchBookmarks: true })
      // The server accepted the watch: whatever failed before is over.
      yield* recovered
      seen.lastAt = yield* Clock.currentTimeMillis
      yield* Effect.raceFirst(Stream.runForEachChunk(events, handle(seen)), inactive(seen))
    })
    return yield* consume.pipe(
      Effect.scoped,
      Effect.timeoutFail({ duration: Duration.sum(Duration.seconds(timeoutSeconds), options.deadlineSlack), onTimeout: () => new DeadlinePassed() }),
      Effect.zipRight(closed),
      Effect.catchTags({
        Inactive: () => Effect.succeed({ _tag: "Inactive" } as const),
        DeadlinePassed: () => Effect.succeed({ _tag: "DeadlinePassed" } as const),
        ErrorEvent: ({ status }) => Effect.succeed({ _tag: "ErrorEvent", status } as const),
        KubernetesApiError: (error) => Effect.succeed({ _tag: "Failed", error } as const)
      }))
  })

  /** Lists (a relist first tries not-older-than `since`), replaces the cache, emits the difference. */
  const relist = (since: string | undefined) => Effect.gen(function* () {
    const listed = yield* listAll(api, resource, { namespace: options.namespace, labelSelector: options.labelSelector, pageSize: options.pageSize, since })
    const objects: Array<KubeObject> = []
    for (const raw of listed.items) {
      const object = normalize(resource, raw)
      if (Option.isSome(object)) objects.push(object.value)
      else yield* skipInvalid(raw)
    }
    yield* Queue.offerAll(queue, replaceAll(cache, objects))
    const first = !(yield* Deferred.isDone(syncedSignal))
    if (first) yield* Queue.offer(queue, CacheEvent.Synced())
    const now = yield* Clock.currentTimeMillis
    yield* Ref.update(status, (s) => ({ ...s, synced: true, lists: s.lists + 1, lastResourceVersion: listed.resourceVersion, lastProgressAt: now }))
    yield* recovered
    yield* Deferred.succeed(syncedSignal, undefined)
    yield* Effect.logDebug("listed").pipe(Effect.annotateLogs({ objects: objects.length, resourceVersion: listed.resourceVersion }))
    return listed.resourceVersion
  })

  const loop = Effect.gen(function* () {
    let resourceVersion: string | undefined
    let needList = true
    for (;;) {
      if (needList) {
        const listed = yield* Effect.either(relist(resourceVersion))
        if (listed._tag === "Left") {
          yield* failed("list_failed", listed.left, true)
          continue
        }
        resourceVersion = listed.right
        needList = false
      }
      const end = yield* watchOnce(resourceVersion ?? "")
      resourceVersion = (yield* Ref.get(status)).lastResourceVersion ?? resourceVersion
      needList = yield* afterWatch(end)
    }
  })

  /** Reacts to how a watch ended; `true` when the cache must be relisted. */
  const afterWatch = (end: WatchEnd): Effect.Effect<boolean> => {
    switch (end._tag) {
      case "Closed":
        if (end.events === 0 && end.elapsedMillis < Duration.toMillis(options.veryShort)) return failed("very_short", undefined, true)
        return restart("closed").pipe(Effect.as(false))
      case "Inactive":
        return restart("inactive").pipe(Effect.zipRight(Effect.logWarning("watch silent for too long: replaced")), Effect.as(false))
      case "DeadlinePassed":
        return restart("deadline").pipe(Effect.as(false))
      case "ErrorEvent":
        return end.status.code === 410
          ? restart("expired").pipe(Effect.zipRight(backoff.reset), Effect.zipRight(pause(undefined)), Effect.as(true))
          : failed("error_event", new KubernetesApiError({ kind: kindOfStatus(end.status.code), operation: `watch ${resource.plural}`, status: end.status.code, message: end.status.message }), true)
      case "Failed":
        return failedWatch(end.error)
    }
  }

  const failedWatch = (error: KubernetesApiError): Effect.Effect<boolean> => {
    if (error.kind === "Expired") return restart("expired", error).pipe(Effect.zipRight(backoff.reset), Effect.zipRight(pause(undefined)), Effect.as(true))
    // 504 is "too large resource version": the server does not know ours (it was restored or
    // restarted), so only a relist can resume. Every other failure retries the watch as it was.
    return failed(error.status === undefined ? "stream_failed" : "watch_failed", error, error.status === 504)
  }

  // Closing the scope ends the consumer's stream as well as the loop.
  yield* Effect.addFinalizer(() => Queue.shutdown(queue))
  yield* Effect.forkScoped(loop.pipe(annotate))
  return {
    resource,
    events: Stream.fromQueue(queue),
    status: Ref.get(status),
    synced: Deferred.await(syncedSignal)
  }
})

