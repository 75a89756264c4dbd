// Pure helpers of infra/: subnet arithmetic, ARNs (MSK, S3, ECS tasks), broker settings, topic
// plan, flows, Fargate sizes, which alarms a stack gets.
import { describe, expect, it } from "vitest";
import { clusterTasksArn } from "../../infra/analytics";
import { fargateMemoryOptions } from "../../infra/config-schema";
import { brokerProperties } from "../../infra/kafka";
import { heartbeatTopicName, planTopics } from "../../infra/kafka-topics";
import { mskResourceArn, s3ObjectsArn } from "../../infra/lib";
import { parameterFamily } from "../../infra/database";
import { subnetCidr } from "../../infra/network";
import { alarmSpecs } from "../../infra/alarm-specs";
import { allowedFlows } from "../../infra/security-groups";

describe("subnetCidr", () => {
  it.each([
    ["10.42.0.0/16", 0, 4, "10.42.0.0/20"],
    ["10.42.0.0/16", 1, 4, "10.42.16.0/20"],
    ["10.42.0.0/16", 2, 4, "10.42.32.0/20"],
    ["10.60.0.0/16", 15, 4, "10.60.240.0/20"],
    ["192.168.4.0/22", 3, 2, "192.168.7.0/24"],
  ])("%s #%i (+%i bits) is %s", (cidr, index, bits, expected) => {
    expect(subnetCidr(cidr, index, bits)).toBe(expected);
  });

  it("refuses a subnet that does not fit", () => {
    expect(() => subnetCidr("10.42.0.0/16", 16)).toThrow("subnet 16 does not fit in 10.42.0.0/16 with /20");
  });
});

describe("ARNs", () => {
  const cluster = "arn:aws:kafka:eu-west-1:123456789012:cluster/cdc-pipeline-dev/0a1b-2c3d-1";
  it("derives MSK topic and group ARNs from the cluster ARN", () => {
    expect(mskResourceArn(cluster, "topic", "cdc.commerce.users")).toBe(
      "arn:aws:kafka:eu-west-1:123456789012:topic/cdc-pipeline-dev/0a1b-2c3d-1/cdc.commerce.users",
    );
    expect(mskResourceArn(cluster, "group", "connect-*")).toBe(
      "arn:aws:kafka:eu-west-1:123456789012:group/cdc-pipeline-dev/0a1b-2c3d-1/connect-*",
    );
    expect(() => mskResourceArn("arn:aws:s3:::bucket", "topic", "t")).toThrow(
      "not an MSK cluster ARN: arn:aws:s3:::bucket",
    );
  });

  it("derives the ARN pattern of an ECS cluster's tasks from the cluster ARN", () => {
    expect(clusterTasksArn("arn:aws:ecs:eu-west-1:123456789012:cluster/connect-cluster-7e1")).toBe(
      "arn:aws:ecs:eu-west-1:123456789012:task/connect-cluster-7e1/*",
    );
    expect(() => clusterTasksArn("arn:aws:ecs:eu-west-1:123456789012:service/c/s")).toThrow(
      "not an ECS cluster ARN: arn:aws:ecs:eu-west-1:123456789012:service/c/s",
    );
  });

  it("scopes S3 object ARNs to a prefix", () => {
    expect(s3ObjectsArn("arn:aws:s3:::b", "cdc_data")).toBe("arn:aws:s3:::b/cdc_data/*");
    expect(s3ObjectsArn("arn:aws:s3:::b", "analytics/")).toBe("arn:aws:s3:::b/analytics/*");
  });
});

describe("brokerProperties", () => {
  it.each([
    [3, "min.insync.replicas=2"],
    [2, "min.insync.replicas=1"],
    [1, "min.insync.replicas=1"],
  ])("replication factor %i gives %s", (rf, minIsr) => {
    expect(brokerProperties(rf).split("\n")).toEqual([
      "auto.create.topics.enable=false",
      `default.replication.factor=${rf}`,
      minIsr,
      "unclean.leader.election.enable=false",
      "delete.topic.enable=true",
    ]);
  });
});

describe("planTopics", () => {
  it("names the change, heartbeat and Connect topics from the connector defaults", () => {
    const plan = planTopics({ connectGroupId: "g", partitions: 4, retentionHours: 2 });
    expect(plan.changeTopics).toEqual(["cdc.commerce.products", "cdc.commerce.users"]);
    expect(plan.heartbeatTopic).toBe(heartbeatTopicName("cdc"));
    expect(plan.heartbeatTopic).toBe("__debezium-heartbeat.cdc");
    expect(plan.signalTopic).toBe("cdc.commerce.cdc_signal");
    expect(plan.topics.find((t) => t.name === plan.signalTopic)).toEqual({
      name: "cdc.commerce.cdc_signal",
      partitions: 1,
      config: { "cleanup.policy": "delete", "retention.ms": "86400000" },
    });
    expect(plan.connectTopics).toEqual({ config: "g-configs", offset: "g-offsets", status: "g-status" });
    expect(plan.topics[0]).toEqual({
      name: "cdc.commerce.products",
      partitions: 4,
      config: { "cleanup.policy": "delete", "retention.ms": "7200000" },
    });
  });
});

describe("allowedFlows", () => {
  it("writes rule descriptions AWS accepts (a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*, at most 255)", () => {
    for (const tunnelHost of [true, false]) {
      for (const interfaceEndpoints of [true, false]) {
        for (const awsApiCidrs of [undefined, ["0.0.0.0/0", "10.1.0.0/16"]]) {
          const flows = allowedFlows({
            tunnelHost,
            interfaceEndpoints,
            connectListenerPort: 443,
            deployerCidrs: ["10.200.0.0/24"],
            ...(awsApiCidrs ? { awsApiCidrs } : {}),
          });
          for (const flow of flows) expect(flow.why).toMatch(/^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/);
        }
      }
    }
  });

  it("opens the Connect listener to the tunnel host and the deployers only, never the VPC", () => {
    const flows = allowedFlows({
      tunnelHost: true,
      interfaceEndpoints: true,
      connectListenerPort: 80,
      deployerCidrs: ["10.200.0.0/24"],
    });
    expect(flows.filter((f) => f.to === "connectLb").map((f) => [f.label ?? f.from, f.cidr])).toEqual([
      ["tunnel", undefined],
      ["deployer0", "10.200.0.0/24"],
    ]);
  });

  it("sends HTTPS for AWS APIs to the stack's endpoints, else to the VPC CIDR or the CIDRs given", () => {
    const egress = (options: { interfaceEndpoints: boolean; awsApiCidrs?: string[] }) =>
      allowedFlows({ tunnelHost: true, connectListenerPort: 80, ...options })
        .filter((f) => f.port === 443 && f.to !== "s3")
        .map((f) => `${f.from}>${f.toLabel ?? f.to}:${f.toCidr ?? ""}`);
    expect(egress({ interfaceEndpoints: true, awsApiCidrs: ["0.0.0.0/0"] })).toEqual([
      "connect>endpoints:",
      "analytics>endpoints:",
      "tunnel>endpoints:",
    ]);
    expect(egress({ interfaceEndpoints: false })).toEqual(["connect>vpc:", "analytics>vpc:", "tunnel>vpc:"]);
    expect(egress({ interfaceEndpoints: false, awsApiCidrs: ["10.9.0.0/16", "10.100.0.0/22"] })).toEqual([
      "connect>awsApis0:10.9.0.0/16",
      "analytics>awsApis0:10.9.0.0/16",
      "connect>awsApis1:10.100.0.0/22",
      "analytics>awsApis1:10.100.0.0/22",
      "tunnel>awsApis0:10.9.0.0/16",
      "tunnel>awsApis1:10.100.0.0/22",
    ]);
  });

  it("opens the listener to the connector health check only when the stack runs it, and nothing else", () => {
    const health = (connectorHealth: boolean) =>
      allowedFlows({ tunnelHost: false, interfaceEndpoints: true, connectListenerPort: 443, connectorHealth })
        .filter((f) => f.from === "health" || f.to === "health")
        .map((f) => `${f.from}>${f.to}:${f.port}`);
    expect([health(true), health(false)]).toEqual([["health>connectLb:443"], []]);
  });

  it("adds tunnel and deployer flows only when asked", () => {
    const base = allowedFlows({ tunnelHost: false, interfaceEndpoints: false, connectListenerPort: 80 });
    expect(base.map((f) => `${f.from}>${f.to}:${f.port}`)).toEqual([
      "connect>database:5432",
      "connect>kafka:9098",
      "connect>connect:8083",
      "connectLb>connect:8083",
      "connect>s3:443",
      "analytics>s3:443",
      "connect>awsApis:443",
      "analytics>awsApis:443",
    ]);
    const full = allowedFlows({
      tunnelHost: true,
      interfaceEndpoints: true,
      connectListenerPort: 443,
      deployerCidrs: ["10.9.0.0/24"],
    });
    expect(
      full
        .filter((f) => f.from === "tunnel" || f.from === "deployer")
        .map((f) => `${f.label ?? f.from}>${f.to}:${f.port}`),
    ).toEqual([
      "tunnel>database:5432",
      "tunnel>kafka:9098",
      "tunnel>connectLb:443",
      "tunnel>endpoints:443",
      "deployer0>database:5432",
      "deployer0>kafka:9098",
      "deployer0>connectLb:443",
    ]);
  });
});

describe("parameterFamily", () => {
  it.each([
    ["14", "postgres14"],
    ["17", "postgres17"],
  ])("major version %s uses the family %s", (major, family) => {
    expect(parameterFamily(major)).toBe(family);
  });

  it("refuses a minor version (the instance pins the major only)", () => {
    expect(() => parameterFamily("17.4")).toThrow("not a PostgreSQL major version: 17.4");
  });
});

describe("fargateMemoryOptions", () => {
  it.each([
    [256, [512, 1024, 2048]],
    [1024, [2048, 3072, 4096, 5120, 6144, 7168, 8192]],
    [300, []],
  ])("cpu %i allows %j", (cpu, memory) => {
    expect(fargateMemoryOptions(cpu)).toEqual(memory);
  });
});

describe("alarmSpecs", () => {
  const base = {
    kafkaClusterName: "c",
    connectClusterName: "e",
    connectServiceName: "s",
    analyticsClusterArn: "arn:aws:ecs:eu-west-1:1:cluster/e",
    analyticsTaskFamily: "f",
    analyticsSchedule: "rate(1 hour)",
    scheduleDeadLetterQueueName: "q",
    region: "eu-west-1",
  };
  it.each([
    [{ kafkaBrokerCount: 0, connectMinRunning: 0 }, ["schedule-errors", "scd2-heartbeat"]],
    [
      { kafkaBrokerCount: 0, connectMinRunning: 1, databaseInstanceIdentifier: "orders" },
      ["slot-lag", "wal-disk", "free-storage", "connect-tasks", "schedule-errors", "scd2-heartbeat"],
    ],
    [
      { kafkaBrokerCount: 2, connectMinRunning: 0 },
      ["kafka-disk-1", "kafka-disk-2", "schedule-errors", "scd2-heartbeat"],
    ],
  ])("%j gives %j", (args, keys) => {
    expect(alarmSpecs({ ...base, ...args }, "rule").map((spec) => spec.key)).toEqual(keys);
  });

  it.each([
    ["rate(15 minutes)", 900],
    ["cron(15 * * * ? *)", 3600],
    ["rate(1 day)", 86400],
  ])("watches %s for a successful run over two periods of %i s", (analyticsSchedule, period) => {
    const heartbeat = alarmSpecs(
      { ...base, analyticsSchedule, kafkaBrokerCount: 0, connectMinRunning: 0 },
      "rule",
    )
      .filter((spec) => spec.key === "scd2-heartbeat")
      .map((spec) => [spec.period, spec.evaluationPeriods, spec.treatMissingData, spec.dimensions]);
    expect(heartbeat).toEqual([[period, 2, "breaching", { RuleName: "rule" }]]);
  });

  it("puts the WAL alarm at 80 % of max_slot_wal_keep_size and defaults the other thresholds", () => {
    const specs = alarmSpecs(
      { ...base, kafkaBrokerCount: 1, connectMinRunning: 2, databaseInstanceIdentifier: "db" },
      "rule",
    );
    expect(specs.map((spec) => [spec.key, spec.threshold])).toEqual([
      ["slot-lag", 1024 ** 3],
      ["wal-disk", Math.round(10240 * 1024 * 1024 * 0.8)],
      ["free-storage", 10 * 1024 ** 3],
      ["kafka-disk-1", 80],
      ["connect-tasks", 2],
      ["schedule-errors", 0],
      ["scd2-heartbeat", 1],
    ]);
  });
});
