/**
 * The agent `run` starts, and its composition root: configuration, the Kubernetes API, the
 * controller client and the tunnel, then the features of `cli/Agent`. Loaded only by `run`.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Data, Duration, Effect, Either, Layer, Option, Ref } from "effect"
import { makeAgentId } from "../config/AgentId.js"
import { loadAgentConfig, type AgentConfig, type RunFlags } from "../config/AgentConfig.js"
import { ControllerClient } from "../controller/ControllerClient.js"
import { defaultRetryPolicy } from "../controller/ControllerRetry.js"
import { ControllerTransport } from "../controller/ControllerTransport.js"
import { Token } from "../controller/Token.js"
import { InvalidSetting } from "../config/Settings.js"
import { ClusterDetector } from "../gateway/ClusterDetector.js"
import { scopeFor } from "../gateway/ClusterCache.js"
import { resolveClusterUuid } from "../gateway/ClusterIdentity.js"
import { defaultRouteSyncSettings, syncOnce, type RouteSyncSettings } from "../gateway/RouteSync.js"
import { proxyAgent, showProxy } from "../http/Proxy.js"
import { showUrl } from "../http/Redact.js"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import { defaultReflectorOptions } from "../kubernetes/Reflector.js"
import * as AdminServer from "../observability/AdminServer.js"
import { Probes } from "../observability/Probes.js"
import { defaultTunnelTiming, parseUpstream, Tunnel } from "../tunnel/Tunnel.js"
import { agentLayer, observabilityLayer, watchingLayer, type AgentParts } from "./Agent.js"

/** The token from the config: its value, or its file re-read when it changes. */
const tokenLayer = (config: AgentConfig) => config.token._tag === "Value"
  ? Token.fromValue(config.token.value)
  : Token.fromFile(config.token.path).pipe(Layer.provide(NodeContext.layer), Layer.mapError((e) => new InvalidSetting({ setting: "PIPEOPS_TOKEN_FILE", reason: e.message })))

/** The tunnel of tunnel mode, dialing the controller with the config's token. */
const tunnelLayer = (config: AgentConfig, token: Layer.Layer<Token, InvalidSetting>, proxy: URL | undefined, clusterUuid: string, agentId: string) =>
  Tunnel.layer({
    apiUrl: config.apiUrl, clusterUuid, agentId, connections: config.tunnel.connections,
    upstream: Option.flatMap(Option.fromNullable(config.tunnel.upstream), parseUpstream),
    upstreamTimeout: config.tunnel.upstreamTimeout, timing: defaultTunnelTiming,
    proxy: proxy === undefined ? undefined : proxyAgent(proxy, config.apiUrl.protocol === "https:")
  }).pipe(Layer.provide(token))

/** The controller client: real (token from the config) or dry-run. */
const controllerLayer = (config: AgentConfig, token: Layer.Layer<Token, InvalidSetting>, proxy: URL | undefined, dryRun: boolean, agentId: string) => {
  if (dryRun) return ControllerClient.layerDryRun
  return ControllerClient.layer({ apiUrl: config.apiUrl, timeout: Duration.seconds(30), retry: defaultRetryPolicy, agentId }).pipe(
    Layer.provide(Layer.merge(ControllerTransport.layerVia(proxy), token)))
}

/** One authoritative sync once the caches synced; fails when there is no decision or the sync failed. */
const once = (settings: RouteSyncSettings) => Effect.gen(function* () {
  const first = yield* (yield* ClusterDetector).first
  if (Either.isLeft(first)) return yield* new InvalidSetting({ setting: "routing_mode", reason: first.left.message })
  if (!(yield* syncOnce(settings))) return yield* new SyncFailed()
})

/** `run --once` could not complete its sync (exit code 1). */
export class SyncFailed extends Data.TaggedError("SyncFailed") {}

/** The cluster's identity in `/status`. */
const identity = (clusterUuid: string) =>
  Layer.scopedDiscard(Effect.flatMap(Probes, (probes) => probes.add({ status: Effect.succeed({ cluster_uuid: clusterUuid }) })))

/** The agent: until interrupted, or one sync with `--once`. */
export const runAgent = ({ once: onlyOnce, dryRun, ...runFlags }: RunFlags & { readonly once: boolean; readonly dryRun: boolean }) => Effect.gen(function* () {
  const config = yield* loadAgentConfig(runFlags)
  // The dial and the REST calls go through the egress proxy the environment names, if any.
  const proxy = config.proxy
  yield* Effect.logInfo("initializing detection").pipe(Effect.annotateLogs({
    api_url: showUrl(config.apiUrl), dry_run: dryRun, proxy: proxy === undefined ? "none" : showProxy(proxy)
  }))
  const agentId = yield* makeAgentId
  const election = config.leaderElection.enabled && !dryRun ? Option.some(config.leaderElection) : Option.none()
  const token = tokenLayer(config)
  const partsFor = (clusterUuid: string): AgentParts => ({
    clusterUuid, agentId, reflector: defaultReflectorOptions, watchScope: scopeFor(config.selection, config.overrides),
    discoveryInterval: config.discoveryInterval,
    detector: { overrides: config.overrides, gracePeriod: config.modeGracePeriod },
    routeSync: { ...defaultRouteSyncSettings, selection: config.selection, resyncInterval: config.resyncInterval },
    heartbeatInterval: config.heartbeatInterval,
    // A dry run never takes the lease from a real writer, nor dials a tunnel.
    election,
    tunnel: dryRun || onlyOnce ? undefined : tunnelLayer(config, token, proxy, clusterUuid, agentId)
  })
  const inputs = Layer.mergeAll(KubernetesApi.layerConfig, controllerLayer(config, token, proxy, dryRun, agentId), observabilityLayer(true))
  if (onlyOnce) {
    return yield* Effect.scoped(Effect.gen(function* () {
      const parts = partsFor(yield* resolveClusterUuid(config.clusterUuid))
      return yield* once(parts.routeSync).pipe(Effect.provide(watchingLayer(parts)))
    })).pipe(Effect.provide(inputs))
  }
  // The admin server is up while the cluster UUID is read (with retries): readiness says why it waits.
  const features = Layer.unwrapScoped(Effect.gen(function* () {
    // Until every feature has added its probe, nothing else would hold readiness back.
    const started = yield* Ref.make(false)
    yield* (yield* Probes).add({ readiness: Effect.map(Ref.get(started), (done) => (done ? [] : ["agent starting"])) })
    const clusterUuid = yield* resolveClusterUuid(config.clusterUuid)
    yield* Effect.logInfo("starting ingress watcher").pipe(Effect.annotateLogs({ cluster_uuid: clusterUuid }))
    return Layer.merge(identity(clusterUuid), agentLayer(partsFor(clusterUuid))).pipe(Layer.tap(() => Ref.set(started, true)))
  }))
  const agent = Layer.merge(AdminServer.layer(config.adminPort), features).pipe(Layer.provide(inputs))
  yield* Effect.logInfo("watcher started").pipe(Effect.annotateLogs({
    agent_id: agentId,
    leader_election: Option.match(election, { onNone: () => "off", onSome: (e) => `${e.namespace}/${e.name}` })
  }))
  return yield* Layer.launch(agent)
})
