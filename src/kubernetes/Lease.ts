/**
 * `coordination.k8s.io/v1` Leases on the wire: the narrow view the election reads, and the body a
 * create or update sends (with the resourceVersion that makes the write conditional).
 */
import { Either, Schema } from "effect"
import type { Lease, LeaseRecord } from "../domain/LeaderElection.js"

const LeaseView = Schema.parseJson(Schema.Struct({
  metadata: Schema.Struct({ resourceVersion: Schema.String }),
  spec: Schema.optionalWith(Schema.Struct({
    holderIdentity: Schema.optional(Schema.String),
    leaseDurationSeconds: Schema.optional(Schema.Int),
    acquireTime: Schema.optional(Schema.String),
    renewTime: Schema.optional(Schema.String),
    leaseTransitions: Schema.optional(Schema.Int)
  }), { default: () => ({}) })
}))
const decodeView = Schema.decodeUnknownEither(LeaseView)

/** A Lease read from the API server; `Left` when the body is not one. */
export const decodeLease = (text: string): Either.Either<Lease, string> =>
  Either.map(Either.mapLeft(decodeView(text), () => "the body is not a Lease with a resourceVersion"), ({ metadata, spec }) => ({
    resourceVersion: metadata.resourceVersion,
    record: {
      holderIdentity: spec.holderIdentity ?? "", leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: spec.acquireTime, renewTime: spec.renewTime, leaseTransitions: spec.leaseTransitions ?? 0
    }
  }))

/** The body of a create (no resourceVersion) or a conditional update. */
export const leaseBody = (namespace: string, name: string, record: LeaseRecord, resourceVersion?: string): string =>
  JSON.stringify({
    apiVersion: "coordination.k8s.io/v1", kind: "Lease",
    metadata: { name, namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec: {
      holderIdentity: record.holderIdentity, leaseDurationSeconds: record.leaseDurationSeconds,
      ...(record.acquireTime === undefined ? {} : { acquireTime: record.acquireTime }),
      ...(record.renewTime === undefined ? {} : { renewTime: record.renewTime }),
      leaseTransitions: record.leaseTransitions
    }
  })

/** The Lease requests the agent makes, as RBAC verbs: get and update name the Lease, create cannot. */
export const leaseVerbs = { named: ["get", "update"], unnamed: ["create"] } as const
