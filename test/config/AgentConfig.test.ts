import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Option, Redacted } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadAgentConfig, type RunFlags } from "../../src/config/AgentConfig.js"

const dir = mkdtempSync(join(tmpdir(), "agent-config-"))
const write = (name: string, text: string) => {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

const noFlags: RunFlags = { ingressClasses: [], gatewayClasses: [], namespaces: [] }
const load = (flags: Partial<RunFlags>, env: Record<string, string>) =>
  loadAgentConfig({ ...noFlags, ...flags }).pipe(
    Effect.provide(Layer.merge(NodeContext.layer, Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))))

const minimal = { PIPEOPS_API_URL: "https://controller.example.com", PIPEOPS_TOKEN: "t0k3n" }

describe("loadAgentConfig", () => {
  it.effect("reads the environment with defaults for the rest", () =>
    Effect.gen(function* () {
      const config = yield* load({}, minimal)
      expect(config.apiUrl.href).toBe("https://controller.example.com/")
      expect(config.token._tag === "Value" && Redacted.value(config.token.value)).toBe("t0k3n")
      expect([config.adminPort, Duration.toMillis(config.resyncInterval), config.clusterUuid]).toEqual([8080, 300_000, undefined])
      expect(config.selection).toEqual({ ingressClasses: [], gatewayClasses: [], namespaces: [], labelSelector: Option.none() })
    }))

  it.effect("a YAML file with ${ENV} interpolation, overridden by environment, overridden by flags", () =>
    Effect.gen(function* () {
      const file = write("config.yaml", [
        "pipeops:", "  api_url: https://${CONTROLLER_HOST}/", "  token: ${AGENT_TOKEN}", "  cluster_uuid: from-file",
        "gateway:", "  routing_mode: tunnel", "  namespaces: [a, b]", "  ingress_classes: nginx", "  resync_interval: 30s",
        "  label_selector: expose=public"
      ].join("\n"))
      const config = yield* load({ config: file, clusterUuid: "from-flag" }, {
        CONTROLLER_HOST: "ctl.example.com", AGENT_TOKEN: "from-file-token", PIPEOPS_ROUTING_MODE: "direct", PIPEOPS_PUBLIC_ENDPOINT: "203.0.113.1:80"
      })
      expect(config.apiUrl.href).toBe("https://ctl.example.com/")
      expect(config.token._tag === "Value" && Redacted.value(config.token.value)).toBe("from-file-token")
      expect(config.clusterUuid).toBe("from-flag")
      expect(config.overrides).toEqual({ routingMode: "direct", publicEndpoint: "203.0.113.1:80", ingressService: undefined })
      expect([config.selection.namespaces, config.selection.ingressClasses]).toEqual([["a", "b"], ["nginx"]])
      expect(Duration.toMillis(config.resyncInterval)).toBe(30_000)
      expect(Option.isSome(config.selection.labelSelector)).toBe(true)
    }))

  it.effect("the egress proxy comes from the environment's proxy variables, NO_PROXY honoured", () =>
    Effect.gen(function* () {
      expect((yield* load({}, { ...minimal, HTTPS_PROXY: "http://proxy:3128" })).proxy?.href).toBe("http://proxy:3128/")
      expect((yield* load({}, { ...minimal, https_proxy: "http://proxy:3128", NO_PROXY: ".example.com" })).proxy).toBeUndefined()
      expect((yield* load({}, minimal)).proxy).toBeUndefined()
    }))

  it.effect("PIPEOPS_CONFIG_FILE names the file; lists in the environment are comma-separated", () =>
    Effect.gen(function* () {
      const file = write("env-config.yaml", "pipeops:\n  api_url: http://127.0.0.1:8090\n  token_file: " + write("token", "abc\n") + "\n")
      const config = yield* load({}, { PIPEOPS_CONFIG_FILE: file, PIPEOPS_NAMESPACES: "x, y" })
      expect(config.token).toEqual({ _tag: "File", path: join(dir, "token") })
      expect(config.selection.namespaces).toEqual(["x", "y"])
    }))

  it.effect.each([
    [{}, {}, "PIPEOPS_API_URL"],
    [{}, { PIPEOPS_API_URL: "ftp://x" }, "PIPEOPS_API_URL"],
    [{ apiUrl: "not a url" }, minimal, "--api-url"],
    [{}, { PIPEOPS_API_URL: "http://x" }, "PIPEOPS_TOKEN"],
    [{}, { PIPEOPS_API_URL: "http://x", PIPEOPS_TOKEN_FILE: join(dir, "missing") }, "PIPEOPS_TOKEN_FILE"],
    [{ tokenFile: join(dir, "missing") }, { PIPEOPS_API_URL: "http://x" }, "--token-file"],
    [{}, { ...minimal, PIPEOPS_RESYNC_INTERVAL: "often" }, "PIPEOPS_RESYNC_INTERVAL"],
    [{ resyncInterval: "0s" }, minimal, "--resync-interval"],
    [{}, { ...minimal, PIPEOPS_ROUTING_MODE: "proxy" }, "PIPEOPS_ROUTING_MODE"],
    [{}, { ...minimal, PIPEOPS_PUBLIC_ENDPOINT: "no-port" }, "PIPEOPS_PUBLIC_ENDPOINT"],
    [{}, { ...minimal, PIPEOPS_INGRESS_SERVICE: "traefik" }, "PIPEOPS_INGRESS_SERVICE"],
    [{ selector: "a in (b" }, minimal, "--selector"],
    [{}, { ...minimal, PIPEOPS_ADMIN_PORT: "80000" }, "PIPEOPS_ADMIN_PORT"],
    [{}, { ...minimal, PIPEOPS_TUNNEL_CONNECTIONS: "0" }, "PIPEOPS_TUNNEL_CONNECTIONS"],
    [{ tunnelConnections: "two" }, minimal, "--tunnel-connections"],
    [{}, { ...minimal, PIPEOPS_TUNNEL_UPSTREAM: "ingress-nginx" }, "PIPEOPS_TUNNEL_UPSTREAM"],
    [{}, { ...minimal, PIPEOPS_TUNNEL_UPSTREAM_TIMEOUT: "soon" }, "PIPEOPS_TUNNEL_UPSTREAM_TIMEOUT"],
    [{ config: join(dir, "missing.yaml") }, minimal, "--config"],
    [{}, { PIPEOPS_API_URL: "https://user:hunter2@controller.example.com", PIPEOPS_TOKEN: "t" }, "PIPEOPS_API_URL"],
    [{}, { PIPEOPS_API_URL: "https://controller.example.com/?token=hunter2", PIPEOPS_TOKEN: "t" }, "PIPEOPS_API_URL"],
    [{}, { PIPEOPS_API_URL: "http://x", PIPEOPS_TOKEN: "hunter2\r\nX-Injected: 1" }, "PIPEOPS_TOKEN"],
    [{}, { PIPEOPS_API_URL: "http://x", PIPEOPS_TOKEN: "hunter2é" }, "PIPEOPS_TOKEN"]
  ] as const)("fails naming the setting: %j %j → %s", ([flags, env, setting]) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load(flags, env))
      expect(error.setting).toBe(setting)
      expect(error.message).not.toContain("hunter2")
    }))

  it.effect.each([
    ["gateway:\n  ingress_class: [nginx]\n", "gateway.ingress_class", "did you mean gateway.ingress_classes?"],
    ["gatway:\n  namespaces: [a]\n", "gatway", "did you mean gateway?"],
    ["pipeops:\n  api_url: [http://x]\n", "pipeops.api_url", "expected a single value, got a list"],
    ["gateway:\n  namespaces: {a: b}\n", "gateway.namespaces", "expected a list or a comma-separated string, got a mapping"],
    ["gateway: nginx\n", "gateway", "expected a mapping, got string"]
  ] as const)("a file with %j fails naming the key", ([text, key, reason]) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load({ config: write(`checked-${key}.yaml`, text) }, minimal))
      expect(error.setting).toBe(key)
      expect(error.reason).toContain(reason)
    }))

  it.effect("a token with a trailing newline is trimmed, like the token file", () =>
    Effect.gen(function* () {
      const config = yield* load({}, { PIPEOPS_API_URL: "http://x", PIPEOPS_TOKEN: "t0k3n\n" })
      expect(config.token._tag === "Value" && Redacted.value(config.token.value)).toBe("t0k3n")
    }))

  it.effect("names the file key and the missing variable of a bad file", () =>
    Effect.gen(function* () {
      const bad = write("bad.yaml", "gateway:\n  resync_interval: soon\npipeops:\n  api_url: http://x\n  token: t\n")
      expect((yield* Effect.flip(load({ config: bad }, {}))).setting).toBe("gateway.resync_interval")
      const unset = write("unset.yaml", "pipeops:\n  api_url: http://x\n  token: ${NOT_SET}\n")
      const error = yield* Effect.flip(load({ config: unset }, {}))
      expect([error.setting, error.reason]).toEqual(["pipeops.token", "${NOT_SET} is not set in the environment"])
    }))
})
