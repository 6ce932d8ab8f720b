/**
 * The agent's features wired together over a Kubernetes API and a controller client: the
 * composition `run` launches, and that tests build with fakes in their place. Every replica
 * watches (the cache, the detector); only the leader writes (the sync engine, the heartbeat).
 */
import { Duration, Effect, Layer, type Option } from "effect"
import type { InvalidSetting } from "../config/Settings.js"
import { whileLeading } from "../election/Leadership.js"
import { LeaderElection, type ElectionSettings } from "../election/LeaderElection.js"
import { Announced } from "../gateway/Announced.js"
import { ClusterCache, type WatchScope } from "../gateway/ClusterCache.js"
import { ClusterDetector, type DetectorSettings } from "../gateway/ClusterDetector.js"
import { Heartbeat } from "../gateway/Heartbeat.js"
import { RouteSync, type RouteSyncSettings } from "../gateway/RouteSync.js"
import { RouteWriter } from "../gateway/RouteWriter.js"
import type { ReflectorOptions } from "../kubernetes/Reflector.js"
import { Metrics } from "../observability/Metrics.js"
import { Probes } from "../observability/Probes.js"
import { Tunnel } from "../tunnel/Tunnel.js"

export interface AgentParts {
  readonly clusterUuid: string
  readonly agentId: string
  readonly reflector: ReflectorOptions
  /** What to list and watch (namespaces, the Ingress label selector). */
  readonly watchScope: WatchScope
  /** How often to ask whether the Gateway API is served (default 5 minutes). */
  readonly discoveryInterval?: Duration.Duration | undefined
  readonly detector: DetectorSettings
  readonly routeSync: RouteSyncSettings
  readonly heartbeatInterval: Duration.Duration
  /** The Lease to elect the writer through; `None`: this replica writes without one. */
  readonly election: Option.Option<Omit<ElectionSettings, "identity">>
  /** The tunnel every replica keeps in tunnel mode; absent: none (a dry run, `--once`, tests). */
  readonly tunnel?: Layer.Layer<Tunnel, InvalidSetting, ClusterDetector | Announced | Metrics | Probes> | undefined
}

/** How long a shutdown waits for the controller calls in flight. */
export const shutdownDrain = Duration.seconds(10)

/** The metrics registry and the probes every feature adds to; `processMetrics` adds the process's. */
export const observabilityLayer = (processMetrics: boolean) => Layer.merge(Metrics.layer({ processMetrics }), Probes.layer)

/** What every replica runs: the cache, the detector, the tunnel, the writer's client side. */
export const watchingLayer = (parts: Pick<AgentParts, "clusterUuid" | "reflector" | "watchScope" | "discoveryInterval" | "detector" | "tunnel">) =>
  (parts.tunnel ?? Tunnel.off).pipe(
    Layer.provideMerge(Announced.layer),
    Layer.provideMerge(ClusterDetector.layer(parts.detector)),
    Layer.provideMerge(ClusterCache.layer(parts.reflector, parts.watchScope, parts.discoveryInterval)),
    Layer.provideMerge(RouteWriter.layer(parts.clusterUuid)))

/** The whole agent: `watchingLayer`, and the engine and heartbeat while this replica leads. */
export const agentLayer = (parts: AgentParts) => {
  const heartbeat = Heartbeat.layer({ clusterUuid: parts.clusterUuid, agentId: parts.agentId, interval: parts.heartbeatInterval })
  const election = parts.election._tag === "Some"
    ? LeaderElection.layer({ ...parts.election.value, identity: parts.agentId })
    : LeaderElection.layerAlways(parts.agentId)
  const writers = Effect.all([RouteSync, Heartbeat])
  const writes = whileLeading(
    Effect.flatMap(writers, ([engine, beat]) => Effect.zipRight(engine.start, beat.start)),
    Effect.flatMap(writers, ([engine, beat]) => Effect.zipRight(beat.stop, engine.stop)),
    // A shutdown lets calls in flight finish (bounded) before the lease is released.
    Effect.flatMap(writers, ([engine, beat]) => Effect.zipRight(beat.stop, engine.drain(shutdownDrain))))
  return writes.pipe(
    Layer.provideMerge(election), Layer.provideMerge(heartbeat), Layer.provideMerge(RouteSync.layer(parts.routeSync)),
    Layer.provideMerge(watchingLayer(parts)))
}
