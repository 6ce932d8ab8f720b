/**
 * `pipeops-agent run`: the agent, and its composition root. `--once` does one authoritative sync
 * and exits; `--dry-run` logs what it would send and sends nothing.
 */
import { Command, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Data, Duration, Effect, Layer, Option, Ref } from "effect"
import { loadAgentConfig, type AgentConfig } from "../AgentConfig.js"
import { ControllerClient } from "../controller/ControllerClient.js"
import { defaultRetryPolicy } from "../controller/ControllerRetry.js"
import { ControllerTransport } from "../controller/ControllerTransport.js"
import { Token } from "../controller/Token.js"
import { decideRouting } from "../domain/ClusterMode.js"
import { authoritativeSync, makeRegistry } from "../gateway/Calls.js"
import { ClusterCache } from "../gateway/ClusterCache.js"
import { desired, makeExtractionCache, refresh } from "../gateway/DesiredState.js"
import { defaultRouteSyncSettings, RouteSync } from "../gateway/RouteSync.js"
import { initialSyncStatus } from "../gateway/SyncStatus.js"
import { KubernetesApi } from "../kubernetes/KubernetesApi.js"
import { defaultReflectorOptions } from "../kubernetes/Reflector.js"
import * as AdminServer from "../observability/AdminServer.js"
import { InvalidSetting } from "../domain/Settings.js"

const text = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.map(Option.getOrUndefined), Options.withDescription(description))

const flags = {
  config: text("config", "YAML configuration file (default: PIPEOPS_CONFIG_FILE)"),
  apiUrl: text("api-url", "the controller's base URL (PIPEOPS_API_URL)"),
  tokenFile: text("token-file", "file holding the controller token, re-read when it changes (PIPEOPS_TOKEN_FILE)"),
  clusterUuid: text("cluster-uuid", "the cluster's UUID (default: the kube-system namespace's uid)"),
  routingMode: text("routing-mode", "direct or tunnel (default: detected)"),
  publicEndpoint: text("public-endpoint", "address:port to report in direct mode (default: detected)"),
  ingressService: text("ingress-service", "namespace/name of the ingress controller Service (default: detected)"),
  ingressClasses: Options.text("ingress-class").pipe(Options.repeated, Options.withDescription("route only Ingresses of this class (repeatable)")),
  namespaces: Options.text("namespace").pipe(Options.repeated, Options.withDescription("route only Ingresses in this namespace (repeatable)")),
  selector: text("selector", "route only Ingresses whose labels match"),
  resyncInterval: text("resync-interval", "authoritative sync period, e.g. 5m (PIPEOPS_RESYNC_INTERVAL)"),
  modeGracePeriod: text("mode-grace-period", "how long a switch away from direct routing waits, e.g. 60s (PIPEOPS_MODE_GRACE_PERIOD)"),
  adminPort: text("admin-port", "admin server port (PIPEOPS_ADMIN_PORT, default 8080)"),
  once: Options.boolean("once").pipe(Options.withDescription("one authoritative sync, then exit: 0 when it succeeded")),
  dryRun: Options.boolean("dry-run").pipe(Options.withDescription("log what would be sent; send nothing"))
}

/** The controller client: real (token from the config) or dry-run. */
const controllerLayer = (config: AgentConfig, dryRun: boolean) => {
  if (dryRun) return ControllerClient.layerDryRun
  const token = config.token._tag === "Value"
    ? Token.fromValue(config.token.value)
    : Token.fromFile(config.token.path).pipe(Layer.provide(NodeContext.layer), Layer.mapError((e) => new InvalidSetting({ setting: "PIPEOPS_TOKEN_FILE", reason: e.message })))
  return ControllerClient.layer({ apiUrl: config.apiUrl, timeout: Duration.seconds(30), retry: defaultRetryPolicy }).pipe(
    Layer.provide(Layer.merge(ControllerTransport.layer, token)))
}

const clusterUuidOf = (config: AgentConfig) =>
  config.clusterUuid !== undefined ? Effect.succeed(config.clusterUuid) : Effect.flatMap(KubernetesApi, (api) => api.namespaceUid("kube-system"))

/** One authoritative sync after the caches synced; the exit code says whether it succeeded. */
const once = (config: AgentConfig, clusterUuid: string) => Effect.gen(function* () {
  const cache = yield* ClusterCache
  yield* cache.synced
  const snapshot = yield* cache.snapshot
  const extraction = makeExtractionCache()
  refresh(extraction, snapshot, config.selection, "all")
  const decision = decideRouting([...snapshot.services.values()], config.overrides)
  if (decision._tag === "Left") return yield* new InvalidSetting({ setting: "routing_mode", reason: decision.left.message })
  const registry = makeRegistry()
  const status = yield* Ref.make(initialSyncStatus)
  const outcome = yield* authoritativeSync(yield* ControllerClient, status, registry, desired(extraction), { clusterUuid, decision: decision.right })
  if (outcome !== "ok") return yield* new SyncFailed()
})

/** `run --once` could not complete its sync (exit code 1). */
export class SyncFailed extends Data.TaggedError("SyncFailed") {}

/** The `run` subcommand. */
export const runCommand = Command.make("run", flags, ({ once: onlyOnce, dryRun, ...runFlags }) => Effect.gen(function* () {
  const config = yield* loadAgentConfig(runFlags)
  yield* Effect.logInfo("initializing detection").pipe(Effect.annotateLogs({ api_url: config.apiUrl.href, dry_run: dryRun }))
  const kubernetes = KubernetesApi.layerConfig
  const clusterUuid = yield* clusterUuidOf(config).pipe(Effect.provide(kubernetes))
  const cache = ClusterCache.layer(defaultReflectorOptions).pipe(Layer.provide(kubernetes))
  const controller = controllerLayer(config, dryRun)
  yield* Effect.logInfo("starting ingress watcher").pipe(Effect.annotateLogs({ cluster_uuid: clusterUuid }))
  if (onlyOnce) return yield* once(config, clusterUuid).pipe(Effect.provide(Layer.merge(cache, controller)), Effect.scoped)
  const engine = RouteSync.layer({
    ...defaultRouteSyncSettings, clusterUuid, selection: config.selection, overrides: config.overrides,
    resyncInterval: config.resyncInterval, gracePeriod: config.modeGracePeriod
  })
  const admin = AdminServer.layer(config.adminPort, clusterUuid)
  const agent = admin.pipe(Layer.provideMerge(engine), Layer.provide(Layer.merge(cache, controller)))
  yield* Effect.logInfo("watcher started").pipe(Effect.annotateLogs({ admin_port: config.adminPort }))
  return yield* Layer.launch(agent)
})).pipe(Command.withDescription("run the agent: keep the controller's routes in step with the cluster's Ingresses"))
