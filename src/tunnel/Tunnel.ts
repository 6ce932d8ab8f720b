/**
 * The tunnel: while the routing decision is `tunnel`, `connections` connections to the
 * controller, each redialed when it ends, over which the controller sends the cluster's public
 * traffic to the upstream (the ingress controller). Every replica runs it, leader or not: the
 * controller spreads streams over all of a cluster's connections, so a rollout loses none.
 *
 * After a switch to direct the connections stay until the controller has acknowledged a sync in
 * direct mode from this replica (the leader), at most `lingerAfterDirect` (a follower never sees
 * the leader's sync), then drain: GOAWAY, and the streams in flight get `drainTimeout`. The same
 * drain runs at shutdown.
 */
import { Context, Duration, Effect, FiberHandle, Layer, Option, Random, Ref, Stream, SubscriptionRef } from "effect"
import * as http from "node:http"
import { Token } from "../controller/Token.js"
import { splitEndpoint } from "../domain/Addresses.js"
import type { RoutingDecision } from "../domain/ClusterMode.js"
import { Announced } from "../gateway/Announced.js"
import { ClusterDetector } from "../gateway/ClusterDetector.js"
import { delaysOf, engineRetry } from "../gateway/Schedules.js"
import type { Metrics } from "../observability/Metrics.js"
import type { Probes } from "../observability/Probes.js"
import { open, TunnelDown, tunnelUrl, type TunnelRefused } from "./Connection.js"
import type { ForwardOptions, Upstream } from "./Forward.js"
import { afterEnding, initialRedial, type Ending, type RedialPolicy } from "./Redial.js"
import { makeCounts, observerOf, observeTunnel } from "./TunnelStats.js"

export interface TunnelTiming {
  readonly pingInterval: Duration.Duration
  /** A PING unanswered this long: the connection is dead. */
  readonly pingTimeout: Duration.Duration
  /** Streams in flight may finish within this time after GOAWAY. */
  readonly drainTimeout: Duration.Duration
  readonly lingerAfterDirect: Duration.Duration
  readonly handshakeTimeout: Duration.Duration
  /** Redial backoff: doubling from `redialBase` up to `redialCap`, each delay fully jittered. */
  readonly redialBase: Duration.Duration
  readonly redialCap: Duration.Duration
  /** A connection that lived this long resets the backoff. */
  readonly redialResetAfter: Duration.Duration
  /** Least time between dials after the controller refused the token. */
  readonly authRetry: Duration.Duration
}

export const defaultTunnelTiming: TunnelTiming = {
  pingInterval: Duration.seconds(10), pingTimeout: Duration.seconds(20), drainTimeout: Duration.seconds(25),
  lingerAfterDirect: Duration.seconds(30), handshakeTimeout: Duration.seconds(10), redialBase: Duration.millis(500),
  redialCap: Duration.seconds(30), redialResetAfter: Duration.seconds(60), authRetry: Duration.seconds(30)
}

export interface TunnelSettings {
  readonly apiUrl: URL
  readonly clusterUuid: string
  readonly agentId: string
  readonly connections: number
  /** `--tunnel-upstream`: replaces the detected ingress controller Service. */
  readonly upstream: Option.Option<Upstream>
  /** No response headers from the upstream within this time: 504. */
  readonly upstreamTimeout: Duration.Duration
  readonly timing: TunnelTiming
  /** The agent to dial through (an egress proxy), if any. */
  readonly proxy: http.Agent | undefined
}

export class Tunnel extends Context.Tag("pipeops-agent/tunnel/Tunnel")<Tunnel, {
  /** Connections up now. */
  readonly connections: Effect.Effect<number>
  /** Waits until a connection is up, at most `timeout`; `true` when one is. */
  readonly awaitConnected: (timeout: Duration.Duration) => Effect.Effect<boolean>
}>() {
  static readonly layer = (settings: TunnelSettings): Layer.Layer<Tunnel, never, Token | ClusterDetector | Announced | Metrics | Probes> =>
    Layer.scoped(Tunnel, make(settings))

  /** No tunnel (a dry run, `--once`): nothing is dialed and nothing waits for it. */
  static readonly off: Layer.Layer<Tunnel> = Layer.succeed(Tunnel, Tunnel.of({ connections: Effect.succeed(0), awaitConnected: () => Effect.succeed(false) }))
}

/** `host:port` as an upstream. */
export const parseUpstream = (text: string): Option.Option<Upstream> => Option.fromNullable(splitEndpoint(text))

const make = (settings: TunnelSettings) => Effect.gen(function* () {
  const detector = yield* ClusterDetector
  const announced = yield* Announced
  const token = yield* Token
  const { timing } = settings
  const up = yield* SubscriptionRef.make(0)
  const lastError = yield* Ref.make(Option.none<string>())
  const wanted = yield* Ref.make(false)
  const counts = makeCounts()
  let upstream = Option.getOrUndefined(settings.upstream)
  const agent = yield* Effect.acquireRelease(Effect.sync(() => new http.Agent({ keepAlive: true })), (a) => Effect.sync(() => a.destroy()))
  const forwarding: ForwardOptions = { upstream: () => upstream, timeoutMillis: Duration.toMillis(settings.upstreamTimeout), agent, observer: observerOf(counts) }
  const record = yield* observeTunnel(counts, { up: SubscriptionRef.get(up), lastError, wanted: Ref.get(wanted), upstream: () => upstream })
  const policy: RedialPolicy = {
    steps: yield* delaysOf(engineRetry(timing.redialBase, timing.redialCap), 16),
    resetAfter: Duration.toMillis(timing.redialResetAfter), authRetry: Duration.toMillis(timing.authRetry)
  }
  const url = tunnelUrl(settings.apiUrl)

  /** One connection's life: dial, serve, PING until it fails. Counts as up only between. */
  const connection = (index: number) => Effect.gen(function* () {
    const current = yield* Effect.mapError(token.current, (e) => new TunnelDown({ kind: "dial", reason: e.message }))
    const live = yield* open({
      url, token: current, clusterUuid: settings.clusterUuid, agentId: settings.agentId,
      handshakeTimeout: timing.handshakeTimeout, agent: settings.proxy
    }, forwarding, timing.drainTimeout)
    yield* Effect.acquireRelease(
      Effect.zipRight(SubscriptionRef.update(up, (n) => n + 1), Ref.set(lastError, Option.none())),
      () => SubscriptionRef.update(up, (n) => n - 1))
    yield* Effect.logInfo("tunnel connected").pipe(Effect.annotateLogs({ connection: index, upstream: upstream === undefined ? null : `${upstream.host}:${upstream.port}` }))
    const pings = Effect.flatMap(live.ping(timing.pingTimeout), record.pinged).pipe(
      Effect.zipRight(Effect.sleep(timing.pingInterval)), Effect.forever)
    return yield* Effect.raceFirst(live.closed, Effect.zipRight(Effect.sleep(timing.pingInterval), pings))
  })

  /** Keeps connection `index` up: redials with full-jitter backoff, reset by a connection that lived long enough. */
  const slot = (index: number) => Effect.gen(function* () {
    let redial = initialRedial
    for (;;) {
      const started = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const ended = yield* Effect.flip(Effect.scoped(connection(index)))
      const lived = (yield* Effect.clockWith((c) => c.currentTimeMillis)) - started
      const next = afterEnding(redial, endingOf(ended), lived, policy, yield* Random.next)
      redial = next.state
      yield* Ref.set(lastError, Option.some(ended.message))
      yield* record.reconnected(reasonOf(ended))
      yield* logEnd(ended, index, redial.dialStreak, next.delay)
      yield* Effect.sleep(Duration.millis(next.delay))
    }
  })

  const dialing = yield* FiberHandle.make()
  const lingering = yield* FiberHandle.make()
  const all = Effect.forEach(Array.from({ length: settings.connections }, (_, i) => i), slot, { concurrency: "unbounded", discard: true })
  const follow = (decision: RoutingDecision) => Effect.gen(function* () {
    if (Option.isNone(settings.upstream)) upstream = Option.getOrUndefined(Option.flatMap(decision.upstream, parseUpstream))
    if (decision.routingMode === "tunnel") {
      yield* Ref.set(wanted, true)
      yield* FiberHandle.clear(lingering)
      return yield* FiberHandle.run(dialing, all, { onlyIfMissing: true })
    }
    yield* Ref.set(wanted, false)
    if (Option.isNone(yield* Effect.option(FiberHandle.get(dialing)))) return
    yield* Effect.logInfo("direct routing: tunnel connections drain once the switch is announced").pipe(
      Effect.annotateLogs({ at_most_in: Duration.format(timing.lingerAfterDirect) }))
    yield* FiberHandle.run(lingering, Effect.raceFirst(announced.awaitMode("direct"), Effect.sleep(timing.lingerAfterDirect)).pipe(
      Effect.zipRight(FiberHandle.clear(dialing)), Effect.zipRight(Effect.logInfo("tunnel connections closed"))), { onlyIfMissing: true })
  })
  yield* Effect.forkScoped(Stream.runForEach(detector.decisions, follow).pipe(Effect.annotateLogs({ service: "Tunnel" })))

  return Tunnel.of({
    connections: SubscriptionRef.get(up),
    awaitConnected: (timeout) => up.changes.pipe(Stream.takeUntil((n) => n > 0), Stream.runLast,
      Effect.map((n) => Option.exists(n, (v) => v > 0)), Effect.timeoutTo({ duration: timeout, onTimeout: () => false, onSuccess: (b) => b }))
  })
})

const endingOf = (ended: TunnelDown | TunnelRefused): Ending => (ended._tag === "TunnelRefused" ? "refused" : ended.kind)

const reasonOf = (ended: TunnelDown | TunnelRefused): string =>
  ({ refused: "unauthorized", dial: "dial_failed", ping: "ping_timeout", lost: "connection_lost" } as const)[endingOf(ended)]

/** A lost connection is news (info); a dial that keeps failing warns once, then goes to debug. */
const logEnd = (ended: TunnelDown | TunnelRefused, index: number, dialStreak: number, delay: number) => {
  const fields = { connection: index, error: ended.message, next_try: `${(delay / 1000).toFixed(1)}s` }
  const line = dialStreak === 0 ? Effect.logInfo("tunnel disconnected") : dialStreak === 1 ? Effect.logWarning("cannot open tunnel") : Effect.logDebug("cannot open tunnel")
  return line.pipe(Effect.annotateLogs(fields))
}
