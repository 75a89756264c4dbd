// The first `up` of a new environment from the deploy runners, in two phases (docs/first-deploy.md): the runners
// cannot reach a VPC that does not exist yet, so phase 1 (`inClusterResources: false`) creates only what the AWS
// APIs create; the network path from the runners' VPC is added by hand (peering and routes); phase 2 creates
// what lives inside the database, the brokers and Connect. Both phases of the prod stack file run under mocks.
import { isDeepStrictEqual } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { runMockStack, STACK_CONFIGS, type MockResource, type MockStackRun } from "./mock-stacks";

/** Resources Pulumi creates by talking to PostgreSQL, Kafka or the Connect REST API, not to AWS. */
const NEEDS_NETWORK_PATH =
  /^(postgresql:|kafka:|pulumi:providers:(postgresql|kafka)$|pulumi-nodejs:dynamic\/)/;
const key = (r: MockResource) => `${r.type} ${r.name}`;

describe("the two-phase first up of prod", () => {
  let phase1: MockStackRun;
  let phase2: MockStackRun;
  beforeAll(async () => {
    [phase1, phase2] = await Promise.all([
      runMockStack("prod", { ...STACK_CONFIGS.prod!, "cdc-pipeline:inClusterResources": "false" }),
      runMockStack("prod", STACK_CONFIGS.prod!),
    ]);
  }, 300_000);

  it("phase 1 needs nothing but the AWS APIs, and starts no worker", () => {
    expect(phase1.resources.filter((r) => NEEDS_NETWORK_PATH.test(r.type)).map(key)).toEqual([]);
    const service = phase1.resources.find((r) => r.type === "aws:ecs/service:Service")!;
    expect([service.inputs.desiredCount, service.inputs.waitForSteadyState]).toEqual([0, false]);
  });

  it("phase 1 opens the database, the brokers and the Connect listener to the runners' subnet already", () => {
    const runnerRules = phase1.resources
      .filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.cidrIpv4 === "10.200.0.0/24")
      .map((r) => [r.name, r.inputs.fromPort, r.inputs.toPort]);
    expect(runnerRules).toEqual([
      ["network-deployer0-to-database-5432-in", 5432, 5432],
      ["network-deployer0-to-kafka-9098-in", 9098, 9098],
      ["network-deployer0-to-connectLb-80-in", 80, 80],
    ]);
  });

  it("the runbook finds the VPC and route table by their tags, and a route added by hand survives every up", () => {
    const tagsOf = (type: string) =>
      phase1.resources.filter((r) => r.type === type).map((r) => r.inputs.tags as Record<string, string>);
    expect(tagsOf("aws:ec2/vpc:Vpc").map((t) => [t.Name, t["cdc:stack"], t["cdc:project"]])).toEqual([
      ["network-vpc", "prod", "cdc-pipeline"],
    ]);
    expect(phase1.resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!.inputs.cidrBlock).toBe("10.60.0.0/16");
    const tables = phase1.resources.filter((r) => r.type === "aws:ec2/routeTable:RouteTable");
    expect(tables.map((t) => (t.inputs.tags as Record<string, string>).Name)).toEqual(["network-private"]);
    // Without a `routes` input the provider leaves routes it did not create alone (peering, Transit Gateway).
    expect(tables.map((t) => "routes" in t.inputs)).toEqual([false]);
    // What the path and phase 2 need is an output of phase 1.
    expect(Object.keys(phase1.outputs)).toEqual(
      expect.arrayContaining(["databaseEndpoint", "kafkaBootstrapBrokers", "connectRestUrl"]),
    );
  });

  it("phase 2 only adds (the in-VPC objects, what needs running workers): nothing is removed or replaced", () => {
    const before = new Map(phase1.resources.map((r) => [r.urn, r]));
    const after = new Map(phase2.resources.map((r) => [r.urn, r]));
    expect(phase1.resources.filter((r) => !after.has(r.urn)).map(key)).toEqual([]);
    const added = phase2.resources.filter((r) => !before.has(r.urn));
    // AWS resources that only make sense with running workers and connectors (autoscaling, their alarms)
    // come with phase 2; they need the AWS APIs only.
    expect(added.filter((r) => r.type.startsWith("aws:")).map(key)).toEqual(
      expect.arrayContaining([
        "aws:appautoscaling/policy:Policy connect-cpu",
        "aws:appautoscaling/target:Target connect-scaling",
        "aws:cloudwatch/metricAlarm:MetricAlarm observability-connect-tasks",
      ]),
    );
    // Everything else added is reached through the new path, or a component holding such resources.
    const others = added.filter((r) => !r.type.startsWith("aws:"));
    expect(
      others.filter((r) => !NEEDS_NETWORK_PATH.test(r.type) && !r.type.startsWith("cdc:")).map(key),
    ).toEqual([]);
    const addedTypes = new Set(others.map((r) => r.type));
    for (const type of [
      "postgresql:index/publication:Publication",
      "postgresql:index/replicationSlot:ReplicationSlot",
      "kafka:index/topic:Topic",
      "pulumi-nodejs:dynamic/connect:KafkaConnector",
    ]) {
      expect([type, addedTypes.has(type)]).toEqual([type, true]);
    }
    // Resources of both phases differ only where the workers start and the dashboard shows them.
    const changed = phase1.resources.flatMap((r) => {
      const next = after.get(r.urn)!;
      const keys = new Set([...Object.keys(r.inputs), ...Object.keys(next.inputs)]);
      return [...keys]
        .filter((k) => !isDeepStrictEqual(r.inputs[k], next.inputs[k]))
        .map((k) => `${key(r)}: ${k}`);
    });
    expect(changed.sort()).toEqual([
      "aws:cloudwatch/dashboard:Dashboard observability-dashboard: dashboardBody",
      "aws:ecs/service:Service connect-service: desiredCount",
      "aws:ecs/service:Service connect-service: waitForSteadyState",
    ]);
  });
});
