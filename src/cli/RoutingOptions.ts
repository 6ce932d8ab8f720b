/**
 * The flags `run` and `plan` share — which Ingresses to route, how the cluster is reached, its
 * UUID — defined once, as text; `config/AgentConfig` validates them for both commands.
 */
import { Options } from "@effect/cli"
import { Option } from "effect"

/** An optional text flag; absent is `undefined`. */
export const textFlag = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.map(Option.getOrUndefined), Options.withDescription(description))

/** `--cluster-uuid`, the filters (`--ingress-class`, `--gateway-class` and `--namespace` repeatable, `--selector`) and the overrides. */
export const routingFlags = {
  clusterUuid: textFlag("cluster-uuid", "the cluster's UUID (default: the kube-system namespace's uid)"),
  routingMode: textFlag("routing-mode", "direct or tunnel (default: detected)"),
  publicEndpoint: textFlag("public-endpoint", "address:port to report in direct mode (default: detected)"),
  ingressService: textFlag("ingress-service", "namespace/name of the ingress controller Service (default: detected)"),
  gateway: textFlag("gateway", "namespace/name of the Gateway that is the cluster's entry point (default: detected when no ingress controller Service is)"),
  gatewayClasses: Options.text("gateway-class").pipe(Options.repeated, Options.withDescription("route HTTPRoutes only through Gateways of this class (repeatable)")),
  ingressClasses: Options.text("ingress-class").pipe(Options.repeated, Options.withDescription("route only Ingresses of this class (repeatable)")),
  namespaces: Options.text("namespace").pipe(Options.repeated, Options.withDescription("route only Ingresses in this namespace (repeatable)")),
  selector: textFlag("selector", "route only Ingresses whose labels match this selector")
}
