// The assertions every stack scenario runs, parameterized by what that scenario must produce
// (stack-scenario.ts). Each scenario file (stack-dev, stack-prod, ...) runs the program once; the
// checks are grouped by part of the stack in the stack-checks-*.ts files.
import type { PolicyResource } from "@pulumi/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePolicies } from "../../infra/policy/resource-policies";
import { stackPolicies } from "../../infra/policy/stack-policies";
import { SECRET_VALUES, isSecret, plaintextLeaks, reveal, runStack, type StackRun } from "./harness";
import { accessChecks } from "./stack-checks-access";
import { computeChecks } from "./stack-checks-compute";
import { dataChecks } from "./stack-checks-data";
import { observabilityChecks } from "./stack-checks-observability";
import { signalChecks } from "./stack-checks-signals";
import {
  expectedResources,
  sourceDatabase,
  stackContext,
  subnetIds,
  topicNames,
  topicResourceName,
  type Scenario,
} from "./stack-scenario";

export function stackSuite(s: Scenario): void {
  let run: StackRun;
  const ctx = stackContext(s, () => run);

  beforeAll(async () => {
    run = await runStack(s.stack, s.config);
  }, 120_000);

  describe(`stack ${s.stack}`, () => {
    it("creates exactly the expected resources, each under the component that owns it", () => {
      const actual = run.resources.map((r) => `${r.parentType ?? "-"} > ${r.type} ${r.name}`);
      expect(actual.sort()).toEqual(expectedResources(s));
    });

    it("protects data on long-lived stacks only", () => {
      const protectedNames = run.resources.filter((r) => r.protect).map((r) => `${r.type} ${r.name}`);
      const expected = s.ephemeral
        ? []
        : [
            "aws:s3/bucket:Bucket storage-bucket",
            "aws:s3/bucket:Bucket catalog-results",
            ...(s.kms ? ["aws:kms/key:Key storage-key"] : []),
            ...(s.rds ? ["aws:rds/instance:Instance database-instance"] : []),
            ...(s.endpoints
              ? [
                  "postgresql:index/replicationSlot:ReplicationSlot cdc-objects-slot",
                  ...topicNames(s).map((t) => `kafka:index/topic:Topic ${topicResourceName(t)}`),
                ]
              : []),
          ];
      expect(protectedNames.sort()).toEqual(expected.sort());
    });

    it("passes every rule of the policy pack", async () => {
      const found = await policyViolations(run);
      expect(found).toEqual([]);
    });

    it("never puts a secret into a plaintext input", () => {
      const leaks = run.resources.flatMap((r) =>
        plaintextLeaks(r.inputs, Object.values(SECRET_VALUES)).map((p) => `${r.type} ${r.name}: ${p}`),
      );
      expect(leaks).toEqual([]);
    });

    it("exports what a user needs: bucket, prefixes, endpoints, secrets, schedule", () => {
      const { m } = ctx;
      const database = sourceDatabase(s);
      expect(run.outputs).toEqual({
        bucketName: m.bucket,
        rawChangesUri: `s3://${m.bucket}/cdc_data`,
        analyticsUri: `s3://${m.bucket}/analytics`,
        connectRestUrl: `${s.connect.https ? "https" : "http"}://${m.connectLbHost}`,
        kafkaBootstrapBrokers: m.bootstrapBrokers,
        databaseEndpoint: `${database.host}:${database.port}`,
        databaseMasterSecretArn: database.masterSecretArn,
        cdcSecretArn: m.cdcSecretArn,
        scheduleName: `${s.stack}-scd2-20261125`,
        scheduleDeadLetterQueueUrl: `https://sqs.eu-west-1.amazonaws.com/123456789012/analytics-undelivered`,
        analyticsTaskDefinitionArn: m.scd2TaskDefinitionArn,
        analyticsCommand: [
          "run",
          "--source",
          `s3://${m.bucket}/cdc_data`,
          "--output",
          `s3://${m.bucket}/analytics`,
          "--memory-limit",
          s.config["cdc-pipeline:analyticsMemory"] === "8192" ? "4915MiB" : "2457MiB",
          "--glue-database",
          `cdc_${s.stack.replace(/[^a-z0-9_]/g, "_")}`,
        ],
        ecsClusterName: m.ecsClusterName,
        privateSubnetIds: subnetIds(s),
        analyticsSecurityGroupId: "network-analytics-id",
        alarmTopicArn: m.alarmTopicArn,
        dashboardName: `cdc-pipeline-${s.stack}`,
        tunnelInstanceId: s.features.tunnelHost ? "tunnel-instance-id" : undefined,
        replicationSlot: "cdc_slot",
        glueDatabase: `cdc_${s.stack.replace(/[^a-z0-9_]/g, "_")}`,
        athenaWorkgroup: `cdc-pipeline-${s.stack}`,
        analystRoleArn: "arn:aws:iam::123456789012:role/catalog-analyst",
      });
    });

    dataChecks(ctx);
    accessChecks(ctx);
    computeChecks(ctx);
    observabilityChecks(ctx);
    signalChecks(ctx);
  });
}

/** Run every resource and stack rule of the pack over the recorded resources, as after `up`. */
async function policyViolations(run: StackRun): Promise<string[]> {
  const byUrn = new Map<string, PolicyResource>();
  const policyResources = run.resources.map((r) => {
    const resource = {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: unwrapSecrets(r.inputs),
      opts: { protect: r.protect },
      dependencies: [] as PolicyResource[],
      propertyDependencies: {} as Record<string, PolicyResource[]>,
    } as unknown as PolicyResource;
    byUrn.set(r.urn, resource);
    return resource;
  });
  run.resources.forEach((r, i) => {
    const resource = policyResources[i] as PolicyResource;
    for (const [key, urns] of Object.entries(r.propertyDependencies)) {
      resource.propertyDependencies[key] = urns.flatMap((u) => byUrn.get(u) ?? []);
    }
  });
  const found: string[] = [];
  for (const resource of policyResources) {
    for (const policy of resourcePolicies) {
      const validate = policy.validateResource as (a: unknown, r: (m: string) => void) => void;
      await validate(resource, (m) => found.push(`${policy.name} ${resource.name}: ${m}`));
    }
  }
  for (const policy of stackPolicies) {
    await policy.validateStack({ resources: policyResources } as never, (m) =>
      found.push(`${policy.name}: ${m}`),
    );
  }
  return found;
}

/** Inputs with mock secrets replaced by their values, as a policy sees them after `pulumi up`. */
function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(reveal(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}
