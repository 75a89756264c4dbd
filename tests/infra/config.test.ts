// Stack config validation: every rule's message, defaults, and the committed stack files.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../infra/config";
import { configKeys } from "../../infra/config-schema";
import { CASES, existingDatabase } from "./config-cases";
import { ROOT, readStackFile } from "./harness";

const REGION = { "aws:region": "eu-west-1" };
const SUBNETS = '["subnet-0aaa1111bbb22222c", "subnet-0aaa1111bbb22222d"]';
const withKeys = (keys: Record<string, string>) => ({
  ...REGION,
  ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`cdc-pipeline:${k}`, v])),
});

function problemsOf(raw: Record<string, string>): string[] {
  try {
    parseStackConfig(raw, "dev");
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return (error as StackConfigError).problems;
  }
  throw new Error("config was accepted");
}

describe("stack config validation", () => {
  it.each(CASES)("rejects %j", (keys, message) => {
    expect(problemsOf(withKeys(keys))).toEqual(Array.isArray(message) ? message : [message]);
  });

  it("has a case for every message the schema and the loader can give", () => {
    const sources = ["infra/config-schema.ts", "infra/config.ts", "infra/vpc-cidr.ts"]
      .map((file) => readFileSync(path.join(ROOT, file), "utf8"))
      .join("\n");
    // The fixed text of each message literal, up to its first interpolation.
    const messages = [
      ...sources.matchAll(/["`]((?:must|required|has no effect|unknown key|cannot be|tag values)[^"`$]*)/g),
    ].map((m) => m[1] as string);
    expect(messages.length).toBeGreaterThan(40);
    const tested = [...CASES.flatMap(([, m]) => m), "aws:region: required"].join("\n");
    expect(messages.filter((message) => !tested.includes(message))).toEqual([]);
  });

  it("requires aws:region", () => {
    expect(problemsOf({})).toEqual(["aws:region: required (pulumi config set aws:region eu-west-1)"]);
  });

  it("reports every problem at once, one line per key, naming the stack", () => {
    let message = "";
    try {
      parseStackConfig(withKeys({ rdsInstanceClass: "big", connectCpu: "1" }), "prod");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      [
        'Invalid configuration for stack "prod":',
        '  - cdc-pipeline:rdsInstanceClass: must look like db.<family>.<size>, e.g. db.t4g.medium (got "big")',
        '  - cdc-pipeline:connectCpu: must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384 (got "1")',
      ].join("\n"),
    );
  });

  it("ignores other projects' keys", () => {
    expect(parseStackConfig({ ...REGION, "aws:profile": "ci", "other:x": "1" }, "dev").region).toBe(
      "eu-west-1",
    );
  });
});

describe("stack config defaults", () => {
  it("applies long-lived defaults", () => {
    const cfg = parseStackConfig(REGION, "qa");
    expect(cfg).toMatchObject({
      ephemeral: false,
      logRetentionDays: 30,
      network: { vpcCidr: "10.42.0.0/16", availabilityZoneCount: 2, tunnelHost: false },
      database: {
        postgresVersion: "17",
        backupRetentionDays: 7,
        createCommerceTables: true,
      },
      kafka: {
        mode: "provisioned",
        version: "3.9.x",
        brokerCount: 2,
        topicReplicationFactor: 2,
        topicPartitions: 3,
      },
      connect: {
        desiredCount: 2,
        minCount: 1,
        maxCount: 4,
        cpu: 1024,
        memory: 4096,
        connectorsEnabled: true,
        sinkRotateScheduleMinutes: 10,
      },
      storage: {
        topicsDir: "cdc_data",
        analyticsPrefix: "analytics",
        rawInfrequentAccessDays: 30,
        kms: false,
      },
      analytics: { schedule: "rate(1 hour)", timezone: "UTC" },
      endpoints: { inClusterResources: true, databaseSslMode: "require" },
    });
    expect(cfg.endpoints.database).toBeUndefined();
  });

  it("shortens retention for ephemeral stacks and fixes serverless replication at 3", () => {
    const cfg = parseStackConfig(withKeys({ ephemeral: "true", kafkaMode: "serverless" }), "pr-1");
    expect([
      cfg.ephemeral,
      cfg.logRetentionDays,
      cfg.database.backupRetentionDays,
      cfg.kafka.topicReplicationFactor,
    ]).toEqual([true, 3, 1, 3]);
  });

  it("takes the sink's rotation schedule in minutes, 0 turning it off", () => {
    const minutes = (value: string) =>
      parseStackConfig(withKeys({ sinkRotateScheduleMinutes: value }), "qa").connect
        .sinkRotateScheduleMinutes;
    expect([minutes("0"), minutes("1"), minutes(" 30 "), minutes("1440")]).toEqual([0, 1, 30, 1440]);
  });

  it("takes an existing VPC's AWS API CIDRs as given, else leaves them to the VPC's CIDR", () => {
    const vpc = { existingVpcId: "vpc-0abc1234def567890", existingPrivateSubnetIds: SUBNETS };
    expect(parseStackConfig(withKeys(vpc), "shared").network.existing?.awsApiCidrs).toBeUndefined();
    const nat = parseStackConfig(withKeys({ ...vpc, existingVpcAwsApiCidrs: '["0.0.0.0/0"]' }), "shared");
    expect(nat.network.existing).toEqual({
      vpcId: "vpc-0abc1234def567890",
      privateSubnetIds: JSON.parse(SUBNETS),
      privateRouteTableIds: [],
      awsApiCidrs: ["0.0.0.0/0"],
    });
  });

  it("takes an existing database on port 5432 unless told otherwise", () => {
    const cfg = parseStackConfig(
      withKeys({ existingDatabase: existingDatabase({ instanceIdentifier: "orders" }) }),
      "shared",
    );
    expect(cfg.database.existing).toEqual({
      host: "orders.internal",
      port: 5432,
      masterSecretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:x",
      securityGroupId: "sg-0fedcba9876543210",
      instanceIdentifier: "orders",
    });
  });

  it("documents every key it reads in docs/deploy.md, and no other", () => {
    const doc = readFileSync(path.join(ROOT, "docs/deploy.md"), "utf8");
    const reference = doc.slice(doc.indexOf("## Configuration reference"));
    const table = reference.slice(0, reference.indexOf("\n## ", 1));
    const documented = [...table.matchAll(/^\|([^|]+)\|/gm)]
      .flatMap(([, cell]) => [...(cell as string).matchAll(/`([A-Za-z0-9:]+)`/g)].map((m) => m[1]))
      .filter((key) => key !== "aws:region");
    expect([...documented].sort()).toEqual([...configKeys].sort());
  });

  it("parses the committed dev and prod stack files", () => {
    const dev = parseStackConfig(readStackFile("dev"), "dev");
    // Deployed from the in-VPC runners: no endpoint overrides, the runners' CIDR opened instead.
    expect([
      dev.endpoints.database,
      dev.endpoints.connectUrl,
      dev.network.deployerCidrs,
      dev.network.tunnelHost,
    ]).toEqual([undefined, undefined, ["10.200.0.0/24"], true]);
    const prod = parseStackConfig(readStackFile("prod"), "prod");
    expect([prod.kafka.brokerCount, prod.database.multiAz, prod.storage.kms, prod.alarms.emails]).toEqual([
      3,
      true,
      true,
      ["data-platform-oncall@example.com", "dba@example.com"],
    ]);
  });
});
