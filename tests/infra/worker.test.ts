// The Connect worker image's entrypoint, run for real in --print-config mode: it renders the
// worker properties from exactly the environment the ECS task definition sets, and refuses to
// start when a variable is missing.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { engineVersions } from "../../engines/versions";
import { WORKER_RDS_CA_BUNDLE } from "../../infra/pipeline-connectors";
import { ROOT } from "./harness";

const WORKER = path.join(ROOT, "connectors/worker");
const ENV = {
  CONNECT_BOOTSTRAP_SERVERS: "b-1.x:9098,b-2.x:9098",
  CONNECT_GROUP_ID: "cdc-connect-dev",
  CONNECT_CONFIG_STORAGE_TOPIC: "cdc-connect-dev-configs",
  CONNECT_OFFSET_STORAGE_TOPIC: "cdc-connect-dev-offsets",
  CONNECT_STATUS_STORAGE_TOPIC: "cdc-connect-dev-status",
  CONNECT_REPLICATION_FACTOR: "2",
  CONNECT_REST_ADVERTISED_HOST_NAME: "10.42.1.17",
  AWS_REGION: "eu-west-1",
};

function render(env: Record<string, string>) {
  const result = spawnSync("sh", [path.join(WORKER, "entrypoint.sh"), "--print-config"], {
    env: {
      PATH: process.env.PATH ?? "",
      CONNECT_PROPERTIES_TEMPLATE: path.join(WORKER, "connect-distributed.properties"),
      ...env,
    },
    encoding: "utf8",
  });
  const properties = Object.fromEntries(
    result.stdout
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { status: result.status, stderr: result.stderr, properties };
}

describe("connect worker entrypoint", () => {
  it("renders distributed mode with IAM auth to MSK and the Secrets Manager config provider", () => {
    const { status, properties } = render(ENV);
    expect(status).toBe(0);
    expect(properties).toMatchObject({
      "bootstrap.servers": "b-1.x:9098,b-2.x:9098",
      "group.id": "cdc-connect-dev",
      "config.storage.topic": "cdc-connect-dev-configs",
      "offset.storage.topic": "cdc-connect-dev-offsets",
      "status.storage.topic": "cdc-connect-dev-status",
      "config.storage.replication.factor": "2",
      "rest.advertised.host.name": "10.42.1.17",
      "config.providers": "secretsmanager",
      "config.providers.secretsmanager.class":
        "com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider",
      "config.providers.secretsmanager.param.region": "eu-west-1",
      "connector.client.config.override.policy": "None",
      "scheduled.rebalance.max.delay.ms": "60000",
    });
    for (const prefix of ["", "producer.", "consumer.", "admin."]) {
      expect([
        properties[`${prefix}security.protocol`],
        properties[`${prefix}sasl.mechanism`],
        properties[`${prefix}sasl.client.callback.handler.class`],
      ]).toEqual(["SASL_SSL", "AWS_MSK_IAM", "software.amazon.msk.auth.iam.IAMClientCallbackHandler"]);
    }
    expect(Object.values(properties).filter((v) => v.includes("@@"))).toEqual([]);
  });

  it("refuses to start without a variable and names it", () => {
    const { CONNECT_GROUP_ID: _omitted, AWS_REGION: _alsoOmitted, ...partial } = ENV;
    const { status, stderr } = render(partial);
    expect(status).toBe(64);
    expect(stderr.trim()).toBe(
      "entrypoint: missing environment variables: AWS_REGION CONNECT_GROUP_ID (set them in the ECS task definition)",
    );
  });

  it("needs exactly the variables infra/connect.ts sets, plus the advertised host it finds itself", () => {
    const template = readFileSync(path.join(WORKER, "connect-distributed.properties"), "utf8");
    const needed = new Set([...template.matchAll(/@@([A-Z_]+)@@/g)].map((m) => m[1]));
    const infra = readFileSync(path.join(ROOT, "infra/connect.ts"), "utf8");
    const set = new Set([...infra.matchAll(/^\s+(CONNECT_[A-Z_]+|AWS_REGION):/gm)].map((m) => m[1]));
    expect([...needed].sort()).toEqual([...set, "CONNECT_REST_ADVERTISED_HOST_NAME"].sort());
  });

  it("builds from the Kafka image and Debezium the tests run, with the S3 sink, MSK IAM auth and the config provider", () => {
    const dockerfile = readFileSync(path.join(WORKER, "Dockerfile"), "utf8");
    const { kafka, debezium } = engineVersions();
    expect(kafka).toMatch(/^4\.\d+\.\d+$/);
    expect(dockerfile).toMatch(
      new RegExp(`^ARG KAFKA_IMAGE=apache/kafka:${kafka.replace(/\./g, "\\.")}$`, "m"),
    );
    expect(dockerfile).toMatch(new RegExp(`^ARG DEBEZIUM_VERSION=${debezium.replace(/\./g, "\\.")}$`, "m"));
    expect(dockerfile).not.toContain("log4j.configuration=");
    for (const artifact of [
      "debezium-connector-postgres",
      "confluentinc-kafka-connect-s3",
      "aws-msk-iam-auth",
      "msk-config-providers",
    ]) {
      expect(dockerfile).toContain(artifact);
    }
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/opt\/kafka\/bin\/cdc-entrypoint\.sh"\]$/m);
  });

  it("pins the worker JVM's time zone to UTC (the engines' pin is held by debezium-eras.test.ts)", () => {
    const dockerfile = readFileSync(path.join(WORKER, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^ENV KAFKA_OPTS="-Duser\.timezone=UTC"$/m);
  });

  it("ships the RDS certificate authorities where the source connector's sslrootcert points", () => {
    const dockerfile = readFileSync(path.join(WORKER, "Dockerfile"), "utf8");
    expect(dockerfile).toContain("https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem");
    expect(dockerfile).toMatch(
      new RegExp(
        `^COPY --from=plugins /certs/rds-ca-bundle\\.pem ${WORKER_RDS_CA_BUNDLE.replace(/\./g, "\\.")}$`,
        "m",
      ),
    );
  });
});
