/**
 * The shipped manifests, Dockerfile and flake checked against the code they deploy.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { isBuiltin } from "node:module"
import { join } from "node:path"
import { parseAllDocuments } from "yaml"
import { settings } from "../../src/config/AgentConfig.js"
import { leaseVerbs } from "../../src/kubernetes/Lease.js"
import { watchedResources } from "../../src/kubernetes/Resources.js"
import { agentNodeFlags, root } from "../support/Cli.js"

type Doc = Record<string, unknown>

const read = (file: string) => readFileSync(join(root, file), "utf8")
const docs = (file: string): ReadonlyArray<Doc> => parseAllDocuments(read(file)).map((d) => d.toJS() as Doc)
const manifests = readdirSync(join(root, "deploy")).filter((f) => f.endsWith(".yaml")).map((f) => `deploy/${f}`)
const all = [...manifests, "deploy/examples/servicemonitor.yaml"].flatMap(docs)
const ofKind = (kind: string) => all.filter((d) => d["kind"] === kind)
/** Reads a nested field by path; these tests know the manifests' shapes. */
const at = (value: unknown, ...path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>((node, key) => (typeof node === "object" && node !== null ? Reflect.get(node, key) : undefined), value)

describe("deploy/", () => {
  it("every manifest parses, and the kustomization lists every file", () => {
    for (const doc of all) expect(typeof doc["kind"]).toBe("string")
    const listed = at(docs("deploy/kustomization.yaml")[0], "resources")
    expect([...(listed as ReadonlyArray<string>)].sort()).toEqual(manifests.filter((f) => !f.endsWith("kustomization.yaml")).map((f) => f.slice("deploy/".length)).sort())
  })

  it("grants exactly what the code reads: list/watch on the watched resources, get on kube-system", () => {
    const [role] = ofKind("ClusterRole")
    const rules = (at(role, "rules") as ReadonlyArray<Doc>).map((rule) => ({
      groups: at(rule, "apiGroups"), resources: at(rule, "resources"), verbs: at(rule, "verbs"), names: at(rule, "resourceNames") ?? null
    }))
    const granted = rules.flatMap((r) => (r.resources as ReadonlyArray<string>).map((resource) =>
      `${(r.groups as ReadonlyArray<string>).join()}/${resource} ${(r.verbs as ReadonlyArray<string>).join()} ${JSON.stringify(r.names)}`))
    const needed = [
      ...watchedResources.map((r) => `${r.group}/${r.plural} list,watch null`),
      `/namespaces get ["kube-system"]`
    ]
    expect(granted.sort()).toEqual(needed.sort())
    expect(at(ofKind("ClusterRoleBinding")[0], "subjects", 0, "name")).toBe(at(ofKind("ServiceAccount")[0], "metadata", "name"))
  })

  it("grants the Lease only in the agent's namespace: get and update on its name, create; the binding names the agent's account", () => {
    const [role] = ofKind("Role")
    const granted = (at(role, "rules") as ReadonlyArray<Doc>).map((rule) =>
      `${(at(rule, "apiGroups") as ReadonlyArray<string>).join()}/${(at(rule, "resources") as ReadonlyArray<string>).join()} ` +
      `${(at(rule, "verbs") as ReadonlyArray<string>).join()} ${JSON.stringify(at(rule, "resourceNames") ?? null)}`)
    expect(granted.sort()).toEqual([
      `coordination.k8s.io/leases ${leaseVerbs.named.join()} ["pipeops-agent"]`,
      `coordination.k8s.io/leases ${leaseVerbs.unnamed.join()} null`
    ].sort())
    expect(at(role, "metadata", "namespace")).toBe(at(ofKind("Deployment")[0], "metadata", "namespace"))
    const binding = ofKind("RoleBinding")[0]
    expect([at(binding, "roleRef", "name"), at(binding, "subjects", 0, "name")]).toEqual([at(role, "metadata", "name"), at(ofKind("ServiceAccount")[0], "metadata", "name")])
  })

  it("the namespaced overlay grants list/watch on Ingresses, Services, Gateways and HTTPRoutes only where its args point the agent, Services in the controller's namespace", () => {
    const overlay = docs("deploy/overlays/namespaced/roles.yaml")
    const kustomization = read("deploy/overlays/namespaced/kustomization.yaml")
    const args = JSON.parse(/value: (\[.*\])/.exec(kustomization)?.[1] ?? "[]") as ReadonlyArray<string>
    const namespaces = args.flatMap((arg, i) => (arg === "--namespace" ? [args[i + 1] ?? ""] : []))
    const controller = (args[args.indexOf("--ingress-service") + 1] ?? "").split("/")[0]
    const grants = overlay.filter((d) => d["kind"] === "Role").map((role) => `${String(at(role, "metadata", "namespace"))} ${
      (at(role, "rules") as ReadonlyArray<Doc>).map((r) => `${(at(r, "resources") as ReadonlyArray<string>).join()}:${(at(r, "verbs") as ReadonlyArray<string>).join()}`).join(" ")}`)
    expect(grants.sort()).toEqual([
      ...namespaces.map((ns) => `${ns} ingresses:list,watch services:list,watch gateways,httproutes:list,watch`), `${controller} services:list,watch`
    ].sort())
    const clusterRole = docs("deploy/overlays/namespaced/clusterrole.yaml")[0]
    expect((at(clusterRole, "rules") as ReadonlyArray<Doc>).map((r) => (at(r, "resources") as ReadonlyArray<string>).join())).toEqual(["ingressclasses", "namespaces"])
  })

  it("only Prometheus reaches the admin port: the NetworkPolicy selects the agent's pods and the admin port", () => {
    const [policy] = ofKind("NetworkPolicy")
    expect(at(policy, "spec", "podSelector", "matchLabels")).toEqual(at(ofKind("Deployment")[0], "spec", "selector", "matchLabels"))
    expect(at(policy, "spec", "policyTypes")).toEqual(["Ingress"])
    expect(at(policy, "spec", "ingress", 0, "ports")).toEqual([{ port: "admin", protocol: "TCP" }])
  })

  it("runs two replicas that a rollout or a drain never takes both of, spread across nodes", () => {
    const [deployment] = ofKind("Deployment")
    expect(at(deployment, "spec", "replicas")).toBe(2)
    expect(at(deployment, "spec", "strategy")).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } })
    expect(at(ofKind("PodDisruptionBudget")[0], "spec")).toEqual({ minAvailable: 1, selector: at(deployment, "spec", "selector") })
    expect(at(deployment, "spec", "template", "spec", "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", 0, "podAffinityTerm", "topologyKey"))
      .toBe("kubernetes.io/hostname")
    const env = at(deployment, "spec", "template", "spec", "containers", 0, "env") as ReadonlyArray<Doc>
    expect(["POD_NAME", "POD_NAMESPACE"].map((name) => at(env.find((e) => e["name"] === name), "valueFrom", "fieldRef", "fieldPath")))
      .toEqual(["metadata.name", "metadata.namespace"])
  })

  it("the Deployment's probes hit the admin endpoints on the admin port, and its env names are settings the agent reads", () => {
    const [deployment] = ofKind("Deployment")
    const container = at(deployment, "spec", "template", "spec", "containers", 0)
    const env = at(container, "env") as ReadonlyArray<Doc>
    const adminPort = env.find((e) => e["name"] === "PIPEOPS_ADMIN_PORT")?.["value"]
    expect(at(container, "ports", 0)).toEqual({ name: "admin", containerPort: Number(adminPort) })
    expect([at(container, "livenessProbe", "httpGet"), at(container, "readinessProbe", "httpGet")])
      .toEqual([{ path: "/healthz", port: "admin" }, { path: "/readyz", port: "admin" }])
    const known = new Set([...Object.values(settings).map((s) => s.env), "LOG_FORMAT", "LOG_LEVEL", "POD_NAME", "POD_NAMESPACE"])
    for (const { name } of env) expect(known.has(String(name))).toBe(true)
    expect(at(deployment, "spec", "template", "metadata", "annotations", "prometheus.io/port")).toBe(adminPort)
  })

  it("runs locked down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, the token as a file", () => {
    const pod = at(ofKind("Deployment")[0], "spec", "template", "spec")
    const container = at(pod, "containers", 0)
    expect(at(pod, "securityContext")).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } })
    expect(at(container, "securityContext")).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } })
    expect(at(container, "resources", "limits", "memory")).toBeDefined()
    const tokenFile = (at(container, "env") as ReadonlyArray<Doc>).find((e) => e["name"] === "PIPEOPS_TOKEN_FILE")?.["value"]
    const mount = (at(container, "volumeMounts") as ReadonlyArray<Doc>).find((m) => m["name"] === "token")
    expect(String(tokenFile).startsWith(String(mount?.["mountPath"]))).toBe(true)
  })
})

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile")
  const stages = dockerfile.split(/^FROM /m).slice(1)

  it("builds in one stage and runs the bundle alone, non-root, in a Node 22 runtime", () => {
    expect(stages.map((s) => s.split("\n")[0])).toEqual([
      "node:22-slim AS build", "gcr.io/distroless/nodejs22-debian12:nonroot AS runtime"
    ])
    const runtime = stages[1] ?? ""
    expect(runtime).toMatch(/^USER 65532:65532$/m)
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m)
    expect(dockerfile).not.toMatch(/^HEALTHCHECK/m)
    expect(runtime).not.toContain("node_modules")
    expect(runtime).toContain("COPY --from=build /src/dist/ /app/")
    expect(runtime).toContain(`ENTRYPOINT ${JSON.stringify(["/nodejs/bin/node", ...agentNodeFlags, "/app/main.js"]).replaceAll(",", ", ")}`)
  })

  it("the build writes the licence of every bundled package, and the source map", () => {
    const licences = read("dist/THIRD_PARTY_LICENSES")
    for (const name of ["effect@", "@kubernetes/client-node@", "prom-client@", "yaml@", "ipaddr.js@"]) expect(licences).toContain(name)
    expect(licences).toContain("Apache License")
    expect(existsSync(join(root, "dist/main.js.map"))).toBe(true)
  })

  it("the build stage copies every script the build imports", () => {
    const build = stages[0] ?? ""
    const imported = [...read("scripts/build.mjs").matchAll(/from "\.\/([^"]+)"/g)].map((m) => `scripts/${m[1] ?? ""}`)
    expect(imported).toContain("scripts/build-options.mjs")
    for (const script of ["scripts/build.mjs", ...imported]) expect(build).toContain(script)
  })

  it("the entrypoint and the commands' bundles exist after npm run build and run without node_modules", () => {
    expect(existsSync(join(root, "dist/main.js"))).toBe(true)
    const bundles = readdirSync(join(root, "dist/commands")).filter((f) => f.endsWith(".cjs")).map((f) => `dist/commands/${f}`)
    expect(bundles.map((f) => f.replace("dist/commands/", "")).sort()).toEqual(["cli.cjs", "controller.cjs", "plan.cjs", "run.cjs"])
    const files = ["dist/main.js", ...bundles]
    const required = files.flatMap((file) => [...read(file).matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1] ?? ""))
    // Only optional modules that their users load inside try/catch may stay outside the bundle.
    const optional = new Set(["bufferutil", "utf-8-validate", "encoding"])
    // `node:` modules are built-ins, some only on newer Node (node:sqlite), also loaded guarded.
    expect(new Set(required.filter((name) => !name.startsWith("node:") && !isBuiltin(name) && !optional.has(name)))).toEqual(new Set())
  })
})

describe("flake.nix", () => {
  const nix = spawnSync("nix-instantiate", ["--version"])
  it.skipIf(nix.status !== 0)("parses (nix-instantiate --parse)", () => {
    const result = spawnSync("nix-instantiate", ["--parse", join(root, "flake.nix")], { encoding: "utf8" })
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
  })
  it.runIf(nix.status !== 0)("is not parsed: nix-instantiate is not installed (Debian: apt-get install nix-bin)", () => {
    expect(read("flake.nix")).toContain("dockerTools.buildLayeredImage")
  })
  it("runs the image's node with the Dockerfile's flags", () => {
    expect(read("flake.nix")).toContain(`Entrypoint = [ "\${pkgs.nodejs_22}/bin/node" ${agentNodeFlags.map((f) => `"${f}"`).join(" ")} "\${default}`)
  })
})

describe("README", () => {
  it("the configuration table names every setting the agent reads", () => {
    const readme = read("README.md")
    for (const setting of Object.values(settings)) {
      expect(readme).toContain(`\`${setting.env}\``)
      if ("flagName" in setting) expect(readme).toContain(`\`${setting.flagName}`)
      if ("file" in setting) expect(readme).toContain(`\`${setting.file}\``)
    }
  })
})
