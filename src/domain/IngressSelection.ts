/**
 * Which Ingresses the agent routes: the optional class, namespace and label filters, and the
 * per-Ingress opt-out annotation. Filters select Ingresses only; detection sees every Service.
 */
import { Option } from "effect"
import { matchesLabels, type LabelSelector } from "./LabelSelector.js"
import type { IngressClassView, IngressView, ObjectMetaView } from "./Views.js"

/** The filters; an empty list or `None` means "no filter". */
export interface IngressSelection {
  readonly ingressClasses: ReadonlyArray<string>
  /** Gateways by `spec.gatewayClassName`: HTTPRoutes route only through the selected ones. */
  readonly gatewayClasses: ReadonlyArray<string>
  readonly namespaces: ReadonlyArray<string>
  readonly labelSelector: Option.Option<LabelSelector>
}

/** Selects every Ingress. */
export const selectAll: IngressSelection = { ingressClasses: [], gatewayClasses: [], namespaces: [], labelSelector: Option.none() }

/** The annotation that opts an Ingress out when set to `"false"`. */
export const optOutAnnotation = "pipeops.io/route-sync"
/** The deprecated class annotation, honoured when `spec.ingressClassName` is absent. */
export const classAnnotation = "kubernetes.io/ingress.class"
/** The IngressClass annotation that marks the cluster's default class. */
export const defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"

/** Why an Ingress was not selected; `filtered_*` reasons are routine, `opted_out` deliberate. */
export type SelectionReason = "filtered_namespace" | "filtered_class" | "filtered_labels" | "opted_out"

/** Why an Ingress was left out, with a human-readable detail. */
export interface NotSelected {
  readonly reason: SelectionReason
  readonly detail: string
}

/** Names of the IngressClasses marked as the default class. */
export const defaultClassNames = (classes: ReadonlyArray<IngressClassView>): ReadonlySet<string> =>
  new Set(classes.filter((c) => c.metadata.annotations?.[defaultClassAnnotation] === "true").map((c) => c.metadata.name))

/**
 * The classes an Ingress belongs to: `spec.ingressClassName`, else the class annotation, else
 * every default class (none when the cluster has no default).
 */
export const classesOf = (ingress: IngressView, defaults: ReadonlySet<string>): ReadonlyArray<string> => {
  const named = ingress.spec.ingressClassName ?? ingress.metadata.annotations?.[classAnnotation]
  return named !== undefined && named !== "" ? [named] : [...defaults]
}

/** `None` when the Ingress is selected, else why not. Filters are checked before the opt-out. */
export const checkSelection = (
  ingress: IngressView,
  selection: IngressSelection,
  defaults: ReadonlySet<string>
): Option.Option<NotSelected> => {
  const namespace = ingress.metadata.namespace ?? "default"
  if (selection.namespaces.length > 0 && !selection.namespaces.includes(namespace)) {
    return Option.some({ reason: "filtered_namespace", detail: `namespace ${namespace} is not selected` })
  }
  const classes = classesOf(ingress, defaults)
  if (selection.ingressClasses.length > 0 && !classes.some((c) => selection.ingressClasses.includes(c))) {
    const which = classes.length > 0 ? `ingress class ${classes.join(", ")}` : "no ingress class"
    return Option.some({ reason: "filtered_class", detail: `${which} is not selected` })
  }
  return checkObject(ingress.metadata, selection)
}

/**
 * The filters every routed object shares (an HTTPRoute has no ingress class): namespace, labels,
 * then the opt-out.
 */
export const checkObject = (meta: ObjectMetaView, selection: IngressSelection): Option.Option<NotSelected> => {
  const namespace = meta.namespace ?? "default"
  if (selection.namespaces.length > 0 && !selection.namespaces.includes(namespace)) {
    return Option.some({ reason: "filtered_namespace", detail: `namespace ${namespace} is not selected` })
  }
  if (Option.isSome(selection.labelSelector) && !matchesLabels(selection.labelSelector.value, meta.labels)) {
    return Option.some({ reason: "filtered_labels", detail: `labels do not match ${selection.labelSelector.value.source}` })
  }
  if (meta.annotations?.[optOutAnnotation] === "false") {
    return Option.some({ reason: "opted_out", detail: `annotated ${optOutAnnotation}: "false"` })
  }
  return Option.none()
}
