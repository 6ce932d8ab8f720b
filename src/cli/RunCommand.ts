/**
 * `pipeops-agent run`: the agent, and its composition root. `--once` does one authoritative sync
 * and exits; `--dry-run` logs what it would send and sends nothing.
 */
import { Command, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Data, Duration, Effect, Either, Layer, Option, Ref } from "effect"
import { makeAgentId } from "../config/AgentId.js"
import { loadAgentConfig, type AgentConfig } from "../config/AgentConfig.js"
import { ControllerClient } from "../controller/ControllerClient.js"
import { defaultRetryPolicy } from "../controller/ControllerRetry.js"
import { ControllerTransport } from "../controller/ControllerTransport.js"
import { Token } from "../controller/Token.js"
import { InvalidSetting } from "../config/Settings.js"
import { ClusterDetector } from "../gateway/ClusterDetector.js"
import { scopeFor } from "../gateway/ClusterCache.js"
import { resolveClusterUuid } from "../gateway/ClusterIdentity.js"
import { defaultRouteSyncSettings, syncOnce, type RouteSyncSettings } from "../gateway/RouteSync.js"
import { proxyAgent, proxyFor, showProxy } from "../http/Proxy.js"
import { showUrl } from "../http/Redact.js"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import { defaultReflectorOptions } from "../kubernetes/Reflector.js"
import * as AdminServer from "../observability/AdminServer.js"
import { Probes } from "../observability/Probes.js"
import { defaultTunnelTiming, parseUpstream, Tunnel } from "../tunnel/Tunnel.js"
import { agentLayer, observabilityLayer, watchingLayer, type AgentParts } from "./Agent.js"
import type { CommandHelp } from "./Help.js"
import { routingFlags, textFlag } from "./RoutingOptions.js"

const flags = {
  config: textFlag("config", "YAML configuration file (default: PIPEOPS_CONFIG_FILE)"),
  apiUrl: textFlag("api-url", "the controller's base URL (PIPEOPS_API_URL)"),
  tokenFile: textFlag("token-file", "file holding the controller token, re-read when it changes (PIPEOPS_TOKEN_FILE)"),
  ...routingFlags,
  resyncInterval: textFlag("resync-interval", "authoritative sync period, e.g. 5m (PIPEOPS_RESYNC_INTERVAL)"),
  modeGracePeriod: textFlag("mode-grace-period", "how long a switch away from direct routing waits, e.g. 60s (PIPEOPS_MODE_GRACE_PERIOD)"),
  heartbeatInterval: textFlag("heartbeat-interval", "period of the heartbeat to the controller, e.g. 30s (PIPEOPS_HEARTBEAT_INTERVAL)"),
  leaderElect: textFlag("leader-elect", "true or false: elect one writer among replicas through a Lease (PIPEOPS_LEADER_ELECT, default true)"),
  leaderElectionNamespace: textFlag("leader-election-namespace", "the Lease's namespace (default: POD_NAMESPACE, else the service account's)"),
  leaderElectionName: textFlag("leader-election-name", "the Lease's name (default pipeops-agent)"),
  leaderElectionLeaseDuration: textFlag("leader-election-lease-duration", "how long a lease lasts unrenewed, e.g. 15s"),
  leaderElectionRenewDeadline: textFlag("leader-election-renew-deadline", "a leader that cannot renew for this long stops writing, e.g. 10s"),
  leaderElectionRetryPeriod: textFlag("leader-election-retry-period", "how often the lease is read and renewed, e.g. 2s"),
  tunnelConnections: textFlag("tunnel-connections", "tunnel connections per replica in tunnel mode (PIPEOPS_TUNNEL_CONNECTIONS, default 2)"),
  tunnelUpstream: textFlag("tunnel-upstream", "host:port that tunnel traffic goes to (PIPEOPS_TUNNEL_UPSTREAM; default: the ingress controller Service)"),
  tunnelUpstreamTimeout: textFlag("tunnel-upstream-timeout", "no response headers from the upstream within this time: 504, e.g. 60s"),
  discoveryInterval: textFlag("discovery-interval", "how often to ask whether the cluster serves the Gateway API, e.g. 5m (PIPEOPS_DISCOVERY_INTERVAL)"),
  adminPort: textFlag("admin-port", "admin server port (PIPEOPS_ADMIN_PORT, default 8080)"),
  once: Options.boolean("once").pipe(Options.withDescription("one authoritative sync, then exit: 0 when it succeeded")),
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("log what would be sent; send nothing"))
}

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

/** What `run --help` shows. */
export const runHelp: CommandHelp = {
  name: "run", usage: "[flags]", options: Options.all(flags),
  summary: "run the agent: keep the controller's routes in step with the cluster's Ingresses"
}

/** The `run` subcommand. */
export const runCommand = Command.make("run", flags, ({ once: onlyOnce, dryRun, ...runFlags }) => Effect.gen(function* () {
  const config = yield* loadAgentConfig(runFlags)
  // The dial and the REST calls go through the egress proxy the environment names, if any.
  const proxy = proxyFor(config.apiUrl, process.env)
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
})).pipe(Command.withDescription(runHelp.summary))
