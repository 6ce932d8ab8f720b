/**
 * `pipeops-agent run`: its flags and help. `--once` does one authoritative sync and exits;
 * `--dry-run` logs what it would send and sends nothing. The agent is `RunAgent`.
 */
import { Command, Options } from "@effect/cli"
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

/** What `run --help` shows. */
export const runHelp: CommandHelp = {
  name: "run", usage: "[flags]", options: Options.all(flags),
  summary: "run the agent: keep the controller's routes in step with the cluster's Ingresses"
}

/** The `run` subcommand as parsed; its bundle gives it the agent (`RunAgent`) as its handler. */
export const runCommand = Command.make("run", flags).pipe(Command.withDescription(runHelp.summary))
