import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "../support/Cli.js"

const scratch = mkdtempSync(join(tmpdir(), "plan-cli-"))
const write = (name: string, text: string) => {
  const file = join(scratch, name)
  writeFileSync(file, text)
  return file
}

describe("pipeops-agent plan (built program)", () => {
  it("plans the shipped Ingress cluster", () => {
    const result = runCli(["plan", "-f", "examples/cluster.yaml", "-f", "examples/shop.yaml", "-f", "examples/blog.yaml"])
    expect(result.code).toBe(0)
    const plan = JSON.parse(result.stdout)
    expect(plan.detection).toEqual({ is_private: false, routing_mode: "direct", public_endpoint: "203.0.113.45:80" })
    expect(plan.routes.map((r: { hostname: string; path: string }) => `${r.hostname}${r.path}`))
      .toEqual(["*.shop.example.com/", "blog.example.com/", "shop.example.com/", "shop.example.com/api"])
    expect(plan.sync.cluster_uuid).toBe("6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f")
    expect(plan.skipped.map((s: { reason: string }) => s.reason).sort()).toEqual(["no_host", "opted_out"])
  })

  it("plans the shipped Gateway API cluster: detection through its Gateway, routes from its HTTPRoutes", () => {
    const result = runCli(["plan", "-f", "examples/gateway-api/"])
    expect(result.code).toBe(0)
    const plan = JSON.parse(result.stdout)
    expect(plan.detection).toEqual({ is_private: false, routing_mode: "direct", public_endpoint: "198.51.100.20:80" })
    expect(plan.routes.map((r: { hostname: string; path: string; service_name: string; tls: boolean }) => `${r.hostname}${r.path} ${r.service_name} ${r.tls}`)).toEqual([
      "catalog.store.example.com/ catalog true", "catalog.store.example.com/search search true",
      "checkout.store.example.com/ checkout-v2 true", "checkout.store.example.com/healthz checkout true"
    ])
    expect(plan.skipped).toEqual([])
  })

  it("--gateway-class leaves out HTTPRoutes of other classes' Gateways, with the reason", () => {
    const plan = JSON.parse(runCli(["plan", "-f", "examples/gateway-api/", "--gateway-class", "internal"]).stdout)
    expect(plan.routes).toEqual([])
    expect(plan.skipped.map((s: { ingress: string; reason: string }) => `${s.ingress} ${s.reason}`)).toEqual(["httproute/store/catalog filtered_class", "httproute/store/checkout filtered_class"])
  })

  it("takes several -f and the filter and override flags", () => {
    const result = runCli([
      "plan", "-f", "examples/cluster.yaml", "-f", "examples/shop.yaml", "--namespace", "shop", "--ingress-class", "nginx",
      "--selector", "!legacy", "--routing-mode", "tunnel", "--cluster-uuid", "abc", "--ingress-service", "ingress-nginx/ingress-nginx-controller"
    ])
    expect(result.code).toBe(0)
    const plan = JSON.parse(result.stdout)
    expect(plan.detection.routing_mode).toBe("tunnel")
    expect(plan.routes.every((r: { cluster_uuid: string; public_endpoint: string }) => r.cluster_uuid === "abc" && r.public_endpoint === "")).toBe(true)
    expect(plan.routes).toHaveLength(3)
  })

  it("exits 2 naming a missing file", () => {
    const result = runCli(["plan", "-f", "examples/nope.yaml"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("examples/nope.yaml")
    expect(result.stdout).toBe("")
  })

  it("exits 2 naming a file with invalid YAML", () => {
    const file = write("broken.yaml", "kind: Ingress\nmetadata: {name: [\n")
    const result = runCli(["plan", "-f", file])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${file}: invalid YAML`)
  })

  it("exits 2 naming a file whose aliases expand without bound, printing no stack", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) =>
      `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`)].join("\n")
    const file = write("bomb.yaml", `${bomb}\n`)
    const result = runCli(["plan", "-f", file])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${file}: invalid YAML`)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it.each([
    [["--routing-mode", "sideways"], "--routing-mode"],
    [["--public-endpoint", "no-port"], "--public-endpoint"],
    [["--ingress-service", "just-a-name"], "--ingress-service"],
    [["--gateway", "envoy-gateway-system/eg", "--ingress-service", "ingress-nginx/ingress-nginx-controller"], "--gateway"],
    [["--selector", "a in (b"], "--selector"]
  ])("exits 2 on an invalid flag value %j", (flags, name) => {
    const result = runCli(["plan", "-f", "examples/", ...flags])
    expect(result.code).toBe(2)
    expect(result.stdout + result.stderr).toContain(name)
  })

  it("exits 2 when direct is forced and there is no endpoint", () => {
    const file = write("private.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: y}\nspec: {type: ClusterIP}\n")
    const result = runCli(["plan", "-f", file, "--routing-mode", "direct"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("public_endpoint")
  })

  it("warns on stderr about objects that do not decode and still prints the plan", () => {
    const file = write("bad-service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: web}]}\n")
    const result = runCli(["plan", "-f", file])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain("warning:")
    expect(JSON.parse(result.stdout).detection.routing_mode).toBe("tunnel")
  })
})
