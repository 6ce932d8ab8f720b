/**
 * The agent's configuration: flags, then environment, then the YAML file (`--config` or
 * `PIPEOPS_CONFIG_FILE`, whose string values may use `${ENV_VAR}`), validated into one value at
 * start. Every failure names the setting as the operator wrote it (`--resync-interval`,
 * `PIPEOPS_RESYNC_INTERVAL` or `gateway.resync_interval`). The token stays `Redacted`.
 */
import { FileSystem } from "@effect/platform"
import { Config, Duration, Effect, Either, Option, Redacted } from "effect"
import { parse } from "yaml"
import type { ModeOverrides } from "../domain/ClusterMode.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
import { parseLabelSelector } from "../domain/LabelSelector.js"
import { proxyFor, proxyVariables, type Environment } from "../http/Proxy.js"
import { checkConfigFile } from "./ConfigFile.js"
import {
  InvalidSetting, parseBoolean, parseCount, parseDuration, parseEndpoint, parseHttpUrl, parseNamespace, parseObjectName, parsePort,
  parseRoutingMode, parseServiceRef, tokenProblem
} from "./Settings.js"

/** Where the controller token comes from. */
export type TokenSource =
  | { readonly _tag: "Value"; readonly value: Redacted.Redacted<string> }
  | { readonly _tag: "File"; readonly path: string }

export interface AgentConfig {
  readonly apiUrl: URL
  readonly token: TokenSource
  /** `undefined`: the kube-system namespace's uid. */
  readonly clusterUuid: string | undefined
  readonly selection: IngressSelection
  readonly overrides: ModeOverrides
  readonly resyncInterval: Duration.Duration
  /** How long a switch away from direct routing waits. */
  readonly modeGracePeriod: Duration.Duration
  /** Period of the heartbeat to the controller. */
  readonly heartbeatInterval: Duration.Duration
  /** How often the agent asks whether the Gateway API is served. */
  readonly discoveryInterval: Duration.Duration
  readonly adminPort: number
  readonly leaderElection: ElectionConfig
  readonly tunnel: TunnelConfig
  /** The egress proxy the environment names for the API URL (`HTTPS_PROXY`, `NO_PROXY`, …), if any. */
  readonly proxy: URL | undefined
}

/** The tunnel's settings (routing mode `tunnel`). */
export interface TunnelConfig {
  /** Connections kept open per replica. */
  readonly connections: number
  /** `host:port` to send tunnel traffic to instead of the detected ingress controller Service. */
  readonly upstream: string | undefined
  /** No response headers from the upstream within this time: 504. */
  readonly upstreamTimeout: Duration.Duration
}

/** How replicas elect the one that writes; `enabled: false` writes without a Lease. */
export interface ElectionConfig {
  readonly enabled: boolean
  /** The Lease's namespace: the setting, else `POD_NAMESPACE`, else the service account's, else `default`. */
  readonly namespace: string
  readonly name: string
  readonly leaseDuration: Duration.Duration
  readonly renewDeadline: Duration.Duration
  readonly retryPeriod: Duration.Duration
}

/** The flags `run` and `plan` share, unvalidated; an absent flag is `undefined` or `[]`. */
export interface RoutingFlags {
  readonly clusterUuid?: string | undefined
  readonly routingMode?: string | undefined
  readonly publicEndpoint?: string | undefined
  readonly ingressService?: string | undefined
  readonly gateway?: string | undefined
  readonly ingressClasses: ReadonlyArray<string>
  readonly gatewayClasses: ReadonlyArray<string>
  readonly namespaces: ReadonlyArray<string>
  readonly selector?: string | undefined
}

/** The flags of `run`, unvalidated. */
export interface RunFlags extends RoutingFlags {
  readonly config?: string | undefined
  readonly apiUrl?: string | undefined
  readonly tokenFile?: string | undefined
  readonly resyncInterval?: string | undefined
  readonly modeGracePeriod?: string | undefined
  readonly heartbeatInterval?: string | undefined
  readonly adminPort?: string | undefined
  readonly leaderElect?: string | undefined
  readonly leaderElectionNamespace?: string | undefined
  readonly leaderElectionName?: string | undefined
  readonly leaderElectionLeaseDuration?: string | undefined
  readonly leaderElectionRenewDeadline?: string | undefined
  readonly leaderElectionRetryPeriod?: string | undefined
  readonly tunnelConnections?: string | undefined
  readonly tunnelUpstream?: string | undefined
  readonly tunnelUpstreamTimeout?: string | undefined
  readonly discoveryInterval?: string | undefined
}

/** One setting's names: its flag, environment variable and file key (absent where it has none). */
export interface Setting {
  readonly flag?: keyof RunFlags
  readonly flagName?: string
  readonly env: string
  readonly file?: string
  readonly list?: boolean
}

/** Every setting, for validation and the README's reference table. */
export const settings = {
  apiUrl: { flag: "apiUrl", flagName: "--api-url", env: "PIPEOPS_API_URL", file: "pipeops.api_url" },
  token: { env: "PIPEOPS_TOKEN", file: "pipeops.token" },
  tokenFile: { flag: "tokenFile", flagName: "--token-file", env: "PIPEOPS_TOKEN_FILE", file: "pipeops.token_file" },
  clusterUuid: { flag: "clusterUuid", flagName: "--cluster-uuid", env: "PIPEOPS_CLUSTER_UUID", file: "pipeops.cluster_uuid" },
  routingMode: { flag: "routingMode", flagName: "--routing-mode", env: "PIPEOPS_ROUTING_MODE", file: "gateway.routing_mode" },
  publicEndpoint: { flag: "publicEndpoint", flagName: "--public-endpoint", env: "PIPEOPS_PUBLIC_ENDPOINT", file: "gateway.public_endpoint" },
  ingressService: { flag: "ingressService", flagName: "--ingress-service", env: "PIPEOPS_INGRESS_SERVICE", file: "gateway.ingress_service" },
  ingressClasses: { flag: "ingressClasses", flagName: "--ingress-class", env: "PIPEOPS_INGRESS_CLASSES", file: "gateway.ingress_classes", list: true },
  gateway: { flag: "gateway", flagName: "--gateway", env: "PIPEOPS_GATEWAY", file: "gateway.gateway" },
  gatewayClasses: { flag: "gatewayClasses", flagName: "--gateway-class", env: "PIPEOPS_GATEWAY_CLASSES", file: "gateway.gateway_classes", list: true },
  discoveryInterval: { flag: "discoveryInterval", flagName: "--discovery-interval", env: "PIPEOPS_DISCOVERY_INTERVAL", file: "gateway.discovery_interval" },
  namespaces: { flag: "namespaces", flagName: "--namespace", env: "PIPEOPS_NAMESPACES", file: "gateway.namespaces", list: true },
  labelSelector: { flag: "selector", flagName: "--selector", env: "PIPEOPS_LABEL_SELECTOR", file: "gateway.label_selector" },
  resyncInterval: { flag: "resyncInterval", flagName: "--resync-interval", env: "PIPEOPS_RESYNC_INTERVAL", file: "gateway.resync_interval" },
  modeGracePeriod: { flag: "modeGracePeriod", flagName: "--mode-grace-period", env: "PIPEOPS_MODE_GRACE_PERIOD", file: "gateway.mode_grace_period" },
  heartbeatInterval: { flag: "heartbeatInterval", flagName: "--heartbeat-interval", env: "PIPEOPS_HEARTBEAT_INTERVAL", file: "pipeops.heartbeat_interval" },
  adminPort: { flag: "adminPort", flagName: "--admin-port", env: "PIPEOPS_ADMIN_PORT" },
  leaderElect: { flag: "leaderElect", flagName: "--leader-elect", env: "PIPEOPS_LEADER_ELECT", file: "leader_election.enabled" },
  leaderElectionNamespace: {
    flag: "leaderElectionNamespace", flagName: "--leader-election-namespace", env: "PIPEOPS_LEADER_ELECTION_NAMESPACE", file: "leader_election.namespace"
  },
  leaderElectionName: { flag: "leaderElectionName", flagName: "--leader-election-name", env: "PIPEOPS_LEADER_ELECTION_NAME", file: "leader_election.name" },
  leaderElectionLeaseDuration: {
    flag: "leaderElectionLeaseDuration", flagName: "--leader-election-lease-duration", env: "PIPEOPS_LEADER_ELECTION_LEASE_DURATION",
    file: "leader_election.lease_duration"
  },
  leaderElectionRenewDeadline: {
    flag: "leaderElectionRenewDeadline", flagName: "--leader-election-renew-deadline", env: "PIPEOPS_LEADER_ELECTION_RENEW_DEADLINE",
    file: "leader_election.renew_deadline"
  },
  leaderElectionRetryPeriod: {
    flag: "leaderElectionRetryPeriod", flagName: "--leader-election-retry-period", env: "PIPEOPS_LEADER_ELECTION_RETRY_PERIOD",
    file: "leader_election.retry_period"
  },
  tunnelConnections: { flag: "tunnelConnections", flagName: "--tunnel-connections", env: "PIPEOPS_TUNNEL_CONNECTIONS", file: "gateway.tunnel_connections" },
  tunnelUpstream: { flag: "tunnelUpstream", flagName: "--tunnel-upstream", env: "PIPEOPS_TUNNEL_UPSTREAM", file: "gateway.tunnel_upstream" },
  tunnelUpstreamTimeout: {
    flag: "tunnelUpstreamTimeout", flagName: "--tunnel-upstream-timeout", env: "PIPEOPS_TUNNEL_UPSTREAM_TIMEOUT", file: "gateway.tunnel_upstream_timeout"
  }
} as const satisfies Record<string, Setting>

/** A value and the name of the setting it was read from. */
interface Raw {
  readonly value: string | ReadonlyArray<string>
  readonly origin: string
}

const invalid = (setting: string, reason: string) => new InvalidSetting({ setting, reason })

/** Replaces `${NAME}` in the file's strings with the environment's values. */
const interpolate = (value: unknown, where: string): Effect.Effect<unknown, InvalidSetting> => {
  if (typeof value === "string") {
    return Effect.reduce(value.match(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g) ?? [], value, (text, reference) =>
      Config.string(reference.slice(2, -1)).pipe(
        Effect.map((replacement) => text.replace(reference, replacement)),
        Effect.mapError(() => invalid(where, `${reference} is not set in the environment`))))
  }
  if (Array.isArray(value)) return Effect.forEach(value, (item) => interpolate(item, where))
  if (typeof value === "object" && value !== null) {
    return Effect.map(Effect.forEach(Object.entries(value), ([key, item]) =>
      Effect.map(interpolate(item, where === "" ? key : `${where}.${key}`), (v) => [key, v] as const)), Object.fromEntries)
  }
  return Effect.succeed(value)
}

/** The config file's contents, interpolated; `{}` without a file. */
const readFile = (path: string | undefined, origin: string) => Effect.gen(function* () {
  if (path === undefined) return {}
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(path).pipe(Effect.mapError((e) => invalid(origin, `cannot read ${path}: ${e.message}`)))
  const parsed = yield* Effect.try({ try: (): unknown => parse(text), catch: (e) => invalid(origin, `${path} is not valid YAML: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`) })
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== "object" || Array.isArray(parsed)) return yield* invalid(origin, `${path} must hold a mapping`)
  const fileKeys = Object.values(settings).flatMap((s: Setting) => (s.file === undefined ? [] : [{ key: s.file, list: s.list === true }]))
  yield* checkConfigFile(parsed, fileKeys, path)
  return yield* interpolate(parsed, "")
})

const fileValue = (file: unknown, key: string): unknown =>
  key.split(".").reduce<unknown>((node, part) => (typeof node === "object" && node !== null ? Reflect.get(node, part) : undefined), file)

const toRaw = (value: unknown, origin: string): Option.Option<Raw> => {
  if (value === undefined || value === null || value === "") return Option.none()
  if (Array.isArray(value)) return value.length === 0 ? Option.none() : Option.some({ value: value.map(String), origin })
  return Option.some({ value: String(value), origin })
}

const flagOf = (flags: Partial<RunFlags>, setting: Setting): Option.Option<Raw> =>
  setting.flag === undefined ? Option.none() : toRaw(flags[setting.flag], setting.flagName ?? setting.env)

/** The first of flag, environment and file that holds a value. */
const lookup = (flags: RunFlags, file: unknown, setting: Setting) => Effect.gen(function* () {
  const flag = flagOf(flags, setting)
  if (Option.isSome(flag)) return flag
  const env = yield* Config.option(Config.string(setting.env))
  const fromEnv = Option.flatMap(env, (value) => toRaw(setting.list === true ? value.split(",").map((v) => v.trim()).filter((v) => v !== "") : value, setting.env))
  if (Option.isSome(fromEnv)) return fromEnv
  return setting.file === undefined ? Option.none<Raw>() : toRaw(fileValue(file, setting.file), setting.file)
}).pipe(Effect.orDie)

const single = (raw: Raw): string => (typeof raw.value === "string" ? raw.value : raw.value.join(","))
const many = (raw: Option.Option<Raw>): ReadonlyArray<string> =>
  Option.match(raw, { onNone: () => [], onSome: (r) => (typeof r.value === "string" ? r.value.split(",").map((v) => v.trim()) : r.value) })

/** Validates an optional setting with a domain parser; the error names where it was read. */
const optional = <A>(raw: Option.Option<Raw>, parse: (value: string) => Either.Either<A, string>) =>
  Option.match(raw, {
    onNone: () => Effect.succeed(undefined),
    onSome: (r) => Either.match(parse(single(r)), { onLeft: (reason) => Effect.fail(invalid(r.origin, reason)), onRight: Effect.succeed })
  })

/** Loads and validates the configuration; fails with the first invalid or missing setting. */
export const loadAgentConfig = (flags: RunFlags) => Effect.gen(function* () {
  const configFile = flags.config !== undefined ? Option.some({ value: flags.config, origin: "--config" }) : Option.map(
    yield* Config.option(Config.string("PIPEOPS_CONFIG_FILE")).pipe(Effect.orDie), (value) => ({ value, origin: "PIPEOPS_CONFIG_FILE" }))
  const file = yield* readFile(Option.getOrUndefined(Option.map(configFile, (c) => c.value)), Option.match(configFile, { onNone: () => "", onSome: (c) => c.origin }))
  const get = (setting: Setting) => lookup(flags, file, setting)

  const apiUrl = yield* optional(yield* get(settings.apiUrl), parseHttpUrl)
  if (apiUrl === undefined) return yield* invalid("PIPEOPS_API_URL", "required (or --api-url, or pipeops.api_url in the config file)")
  const token = yield* tokenSource(yield* get(settings.token), yield* get(settings.tokenFile))
  const routing = yield* loadRouting(get)
  const resync = yield* optional(yield* get(settings.resyncInterval), parseDuration)
  const grace = yield* optional(yield* get(settings.modeGracePeriod), parseDuration)
  const heartbeat = yield* optional(yield* get(settings.heartbeatInterval), parseDuration)
  const discovery = yield* optional(yield* get(settings.discoveryInterval), parseDuration)
  const adminPort = yield* optional(yield* get(settings.adminPort), parsePort)
  const leaderElection = yield* loadElection(get)
  const tunnelConnections = yield* optional(yield* get(settings.tunnelConnections), parseCount(1, 16))
  const tunnelUpstreamTimeout = yield* optional(yield* get(settings.tunnelUpstreamTimeout), parseDuration)
  const tunnel: TunnelConfig = {
    connections: tunnelConnections ?? 2,
    upstream: yield* optional(yield* get(settings.tunnelUpstream), parseEndpoint),
    upstreamTimeout: durationOr(tunnelUpstreamTimeout, Duration.seconds(60))
  }
  return {
    apiUrl, token, ...routing, leaderElection, tunnel, proxy: proxyFor(apiUrl, yield* proxyEnvironment),
    resyncInterval: resync === undefined ? Duration.minutes(5) : Duration.millis(resync),
    modeGracePeriod: grace === undefined ? Duration.seconds(60) : Duration.millis(grace),
    heartbeatInterval: heartbeat === undefined ? Duration.seconds(30) : Duration.millis(heartbeat),
    discoveryInterval: discovery === undefined ? Duration.minutes(5) : Duration.millis(discovery),
    adminPort: adminPort ?? 8080
  } satisfies AgentConfig
})

/** The proxy variables, in either case, as the environment holds them. */
const proxyEnvironment = Effect.map(
  Effect.forEach(proxyVariables, (name) => Effect.map(Config.option(Config.string(name)), (value) => [name, Option.getOrUndefined(value)] as const)),
  (entries): Environment => Object.fromEntries(entries)
).pipe(Effect.orDie)

/** Where a pod finds its own namespace. */
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

/** The Lease's namespace when none is set: `POD_NAMESPACE`, else the service account's, else `default`. */
const ownNamespace = Effect.gen(function* () {
  const pod = yield* Config.option(Config.nonEmptyString("POD_NAMESPACE")).pipe(Effect.orDie)
  if (Option.isSome(pod)) return pod.value
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(serviceAccountNamespace).pipe(Effect.orElseSucceed(() => ""))
  return text.trim() === "" ? "default" : text.trim()
})

const durationOr = (millis: number | undefined, fallback: Duration.Duration) => (millis === undefined ? fallback : Duration.millis(millis))

/** The election settings; the durations must nest as client-go requires. */
const loadElection = (get: (setting: Setting) => Effect.Effect<Option.Option<Raw>>) => Effect.gen(function* () {
  const enabled = yield* optional(yield* get(settings.leaderElect), parseBoolean)
  const namespace = yield* optional(yield* get(settings.leaderElectionNamespace), parseNamespace)
  const name = yield* optional(yield* get(settings.leaderElectionName), parseObjectName)
  const leaseRaw = yield* get(settings.leaderElectionLeaseDuration)
  const renewRaw = yield* get(settings.leaderElectionRenewDeadline)
  const retryRaw = yield* get(settings.leaderElectionRetryPeriod)
  const leaseDuration = durationOr(yield* optional(leaseRaw, parseDuration), Duration.seconds(15))
  const renewDeadline = durationOr(yield* optional(renewRaw, parseDuration), Duration.seconds(10))
  const retryPeriod = durationOr(yield* optional(retryRaw, parseDuration), Duration.seconds(2))
  const origin = (raw: Option.Option<Raw>, fallback: string) => Option.match(raw, { onNone: () => fallback, onSome: (r) => r.origin })
  if (Duration.greaterThanOrEqualTo(renewDeadline, leaseDuration)) {
    return yield* invalid(origin(renewRaw, "--leader-election-renew-deadline"), `${Duration.format(renewDeadline)} must be shorter than the lease duration (${Duration.format(leaseDuration)})`)
  }
  if (Duration.greaterThanOrEqualTo(Duration.times(retryPeriod, 1.2), renewDeadline)) {
    return yield* invalid(origin(retryRaw, "--leader-election-retry-period"), `1.2 x ${Duration.format(retryPeriod)} must be shorter than the renew deadline (${Duration.format(renewDeadline)})`)
  }
  return {
    enabled: enabled ?? true, namespace: namespace ?? (yield* ownNamespace), name: name ?? "pipeops-agent", leaseDuration, renewDeadline, retryPeriod
  } satisfies ElectionConfig
})

/** Which Ingresses to route, how the cluster is reached, and its UUID. */
export type RoutingConfig = Pick<AgentConfig, "selection" | "overrides" | "clusterUuid">

const loadRouting = (get: (setting: Setting) => Effect.Effect<Option.Option<Raw>>) => Effect.gen(function* () {
  const routingMode = yield* optional(yield* get(settings.routingMode), parseRoutingMode)
  const publicEndpoint = yield* optional(yield* get(settings.publicEndpoint), parseEndpoint)
  const ingressService = yield* optional(yield* get(settings.ingressService), parseServiceRef)
  const gatewayRaw = yield* get(settings.gateway)
  const gateway = yield* optional(gatewayRaw, parseServiceRef)
  if (gateway !== undefined && ingressService !== undefined) {
    return yield* invalid(Option.match(gatewayRaw, { onNone: () => "--gateway", onSome: (r) => r.origin }), "set either the Gateway or the ingress controller Service (ingress_service), not both")
  }
  const labelSelector = yield* optional(yield* get(settings.labelSelector), parseLabelSelector)
  return {
    clusterUuid: Option.getOrUndefined(Option.map(yield* get(settings.clusterUuid), single)),
    selection: { ingressClasses: many(yield* get(settings.ingressClasses)), gatewayClasses: many(yield* get(settings.gatewayClasses)), namespaces: many(yield* get(settings.namespaces)), labelSelector: Option.fromNullable(labelSelector) },
    overrides: { routingMode, publicEndpoint, ingressService, gateway }
  } satisfies RoutingConfig
})

/** `plan`'s routing settings: from its flags alone, validated as `run` validates them. */
export const routingFromFlags = (flags: RoutingFlags): Effect.Effect<RoutingConfig, InvalidSetting> =>
  loadRouting((setting) => Effect.succeed(flagOf(flags, setting)))

/** `PIPEOPS_TOKEN` (or its file key), else a readable, non-empty token file. */
const tokenSource = (value: Option.Option<Raw>, file: Option.Option<Raw>) => Effect.gen(function* () {
  if (Option.isSome(value)) {
    // Trimmed like the token file: a trailing newline from `echo` or a Secret is not part of it.
    const token = single(value.value).trim()
    const problem = tokenProblem(token)
    if (problem !== undefined) return yield* invalid(value.value.origin, problem)
    return { _tag: "Value", value: Redacted.make(token) } as const
  }
  if (Option.isNone(file)) return yield* invalid("PIPEOPS_TOKEN", "required: set PIPEOPS_TOKEN or PIPEOPS_TOKEN_FILE (or --token-file)")
  const path = single(file.value)
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(path).pipe(Effect.mapError((e) => invalid(file.value.origin, `cannot read ${path}: ${e.message}`)))
  const problem = tokenProblem(text.trim())
  if (problem !== undefined) return yield* invalid(file.value.origin, `${path}: ${problem}`)
  return { _tag: "File", path } as const
})
