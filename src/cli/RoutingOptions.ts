/**
 * The flags `plan` and `run` share: which Ingresses to route and how to reach the cluster.
 */
import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { Effect, Either, Option } from "effect"
import type { ModeOverrides } from "../domain/ClusterMode.js"
import type { IngressSelection } from "../domain/IngressSelection.js"
import { parseLabelSelector } from "../domain/LabelSelector.js"
import { parseEndpoint, parseRoutingMode, parseServiceRef } from "../domain/Settings.js"

/** Validates an optional flag's value with a settings parser; the error names the flag. */
const validated = <A>(flag: string, parse: (value: string) => Either.Either<A, string>) =>
  Options.text(flag).pipe(
    Options.optional,
    Options.mapEffect((value) => Option.match(value, {
      onNone: () => Effect.succeed(undefined),
      onSome: (raw) => Either.match(parse(raw), {
        onLeft: (reason) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(`invalid --${flag}: ${reason}`))),
        onRight: (parsed) => Effect.succeed(parsed)
      })
    }))
  )

/** `--ingress-class` and `--namespace` (repeatable) and `--selector`. */
export const selectionOptions: Options.Options<IngressSelection> = Options.all({
  ingressClasses: Options.text("ingress-class").pipe(
    Options.repeated,
    Options.withDescription("route only Ingresses of this class (repeatable)")),
  namespaces: Options.text("namespace").pipe(
    Options.repeated,
    Options.withDescription("route only Ingresses in this namespace (repeatable)")),
  labelSelector: validated("selector", parseLabelSelector).pipe(
    Options.map(Option.fromNullable),
    Options.withDescription("route only Ingresses whose labels match this selector"))
})

/** `--ingress-service`, `--routing-mode` and `--public-endpoint`. */
export const overrideOptions: Options.Options<ModeOverrides> = Options.all({
  ingressService: validated("ingress-service", parseServiceRef).pipe(
    Options.withDescription("namespace/name of the ingress controller Service (default: detected)")),
  routingMode: validated("routing-mode", parseRoutingMode).pipe(
    Options.withDescription("direct or tunnel (default: detected)")),
  publicEndpoint: validated("public-endpoint", parseEndpoint).pipe(
    Options.withDescription("address:port to report in direct mode (default: detected)"))
})

/** `--cluster-uuid`. */
export const clusterUuidOption = Options.text("cluster-uuid").pipe(
  Options.optional,
  Options.map(Option.getOrUndefined),
  Options.withDescription("the cluster's UUID (default: the kube-system namespace's uid)"))
