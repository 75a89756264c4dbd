// Rules about how resources relate: a bucket and the guards that point at it, an RDS instance and
// its parameter group, data resources and their `protect` flag on long-lived stacks.
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { isEphemeral, statementsOf } from "./resource-policies";

/** Resources of `type` whose input `property` depends on `target`. */
function guardsOf(
  resources: PolicyResource[],
  type: string,
  target: PolicyResource,
  property = "bucket",
): PolicyResource[] {
  return resources.filter(
    (r) => r.type === type && (r.propertyDependencies[property] ?? []).some((d) => d.urn === target.urn),
  );
}

/** True when `document` denies every s3 action on the bucket and its objects without TLS. */
export function deniesInsecureTransport(document: unknown): boolean | undefined {
  const statements = statementsOf(document) as
    | { Effect?: string; Action?: string | string[]; Condition?: { Bool?: Record<string, string> } }[]
    | undefined;
  if (!statements) return undefined;
  return statements.some(
    (s) =>
      s.Effect === "Deny" &&
      [s.Action].flat().includes("s3:*") &&
      s.Condition?.Bool?.["aws:SecureTransport"] === "false",
  );
}

function stackRule(
  name: string,
  description: string,
  check: (resources: PolicyResource[], report: ReportViolation) => void,
): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => check(args.resources, report),
  };
}

/** Data that a long-lived stack must not lose to an accidental `pulumi destroy`. */
export const PROTECTED_TYPES = [
  "aws:rds/instance:Instance",
  "aws:s3/bucket:Bucket",
  "postgresql:index/replicationSlot:ReplicationSlot",
  "kafka:index/topic:Topic",
];

export const stackPolicies: StackValidationPolicy[] = [
  stackRule(
    "s3-bucket-guards",
    "Every bucket has a full public access block, SSE, a TLS-only policy, and versioning on long-lived stacks.",
    (resources, report) => {
      for (const bucket of resources.filter((r) => r.type === "aws:s3/bucket:Bucket")) {
        const guard = (type: string) => guardsOf(resources, type, bucket);
        if (guard("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").length === 0) {
          report(`bucket ${bucket.name} has no public access block`, bucket.urn);
        }
        if (
          guard("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
            .length === 0
        ) {
          report(`bucket ${bucket.name} has no server-side encryption configuration`, bucket.urn);
        }
        const policies = guard("aws:s3/bucketPolicy:BucketPolicy");
        if (!policies.some((p) => deniesInsecureTransport(p.props.policy) !== false)) {
          report(
            `bucket ${bucket.name} has no policy denying requests without TLS (aws:SecureTransport)`,
            bucket.urn,
          );
        }
        const versioned = guard("aws:s3/bucketVersioning:BucketVersioning").some(
          (v) => v.props.versioningConfiguration?.status === "Enabled",
        );
        if (!versioned && !isEphemeral(bucket.props)) {
          report(`bucket ${bucket.name} must be versioned on a long-lived stack`, bucket.urn);
        }
      }
    },
  ),
  stackRule(
    "rds-logical-replication",
    "Every RDS PostgreSQL instance uses a parameter group with rds.logical_replication=1 from its creation.",
    (resources, report) => {
      for (const db of resources.filter((r) => r.type === "aws:rds/instance:Instance")) {
        const groups = (db.propertyDependencies.parameterGroupName ?? []).filter(
          (g) => g.type === "aws:rds/parameterGroup:ParameterGroup",
        );
        const logical = groups.some((g) =>
          ((g.props.parameters ?? []) as { name: string; value: string }[]).some(
            (p) => p.name === "rds.logical_replication" && p.value === "1",
          ),
        );
        if (!logical)
          report(`RDS instance ${db.name} has no parameter group with rds.logical_replication=1`, db.urn);
      }
    },
  ),
  stackRule(
    "protect-data-on-long-lived-stacks",
    "On stacks not tagged ephemeral, the database, bucket, replication slot and topics are protected.",
    (resources, report) => {
      if (resources.some((r) => isEphemeral(r.props))) return;
      for (const r of resources.filter((x) => PROTECTED_TYPES.includes(x.type) && !x.opts.protect)) {
        report(`${r.type} ${r.name} must be protected (protect: true) on a long-lived stack`, r.urn);
      }
    },
  ),
];
