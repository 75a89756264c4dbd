import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { checkConnectorInputs, isSensitiveKey, plaintextSecretReason } from "../../../connectors/connect-api";
import { UNKNOWN_VALUE } from "../../../connectors/connect-api/check";
import { PASSWORD_PLACEHOLDER, sourceInputs } from "./fixtures";

const valid = () => sourceInputs("http://connect.internal:8083") as unknown as Record<string, unknown>;
const PLACEHOLDER_HINT =
  "looks like a credential and must be a config-provider placeholder such as ${secretsmanager:<secret name>:password} or ${env:VAR}, never the plaintext value";

describe("checkConnectorInputs", () => {
  it("accepts a valid source connector", () => {
    expect(checkConnectorInputs(valid())).toEqual([]);
  });

  it("pins the unknown-value sentinel to the SDK's", () => {
    expect(UNKNOWN_VALUE).toBe(pulumi.runtime.unknownValue);
  });

  it("lets unknown values through during preview", () => {
    const inputs = { ...valid(), name: UNKNOWN_VALUE, connectUrl: UNKNOWN_VALUE, config: UNKNOWN_VALUE };
    expect(checkConnectorInputs(inputs)).toEqual([]);
    const partly = { ...valid(), config: { "connector.class": "x", "database.password": UNKNOWN_VALUE } };
    expect(checkConnectorInputs(partly)).toEqual([]);
  });

  // Like Pulumi's serialization, a key patched to undefined is absent.
  const config = (patch: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries({ ...(valid().config as object), ...patch }).filter(([, v]) => v !== undefined),
    );

  it.each<[string, Record<string, unknown>, { property: string; reason: string }[]]>([
    ["empty name", { name: "" }, [{ property: "name", reason: "must be a non-empty string" }]],
    ["missing name", { name: undefined }, [{ property: "name", reason: "must be a non-empty string" }]],
    [
      "padded name",
      { name: " cdc " },
      [{ property: "name", reason: '" cdc " has leading or trailing whitespace, which Connect strips' }],
    ],
    [
      "slash in name",
      { name: "a/b" },
      [{ property: "name", reason: '"a/b" contains a slash or a control character' }],
    ],
    [
      "missing URL",
      { connectUrl: "" },
      [{ property: "connectUrl", reason: "must be the Connect REST URL, e.g. http://connect.internal:8083" }],
    ],
    [
      "not a URL",
      { connectUrl: "connect:8083x" },
      [{ property: "connectUrl", reason: '"connect:8083x" must use http or https' }],
    ],
    [
      "garbage URL",
      { connectUrl: "http://" },
      [{ property: "connectUrl", reason: '"http://" is not a URL' }],
    ],
    [
      "URL with credentials",
      { connectUrl: "http://u:p@connect:8083" },
      [{ property: "connectUrl", reason: '"http://u:p@connect:8083" must not embed credentials; use auth' }],
    ],
    [
      "URL with query",
      { connectUrl: "http://connect:8083/?x=1" },
      [{ property: "connectUrl", reason: '"http://connect:8083/?x=1" must not carry a query or a fragment' }],
    ],
    [
      "tlsCa on http",
      { tlsCa: "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----" },
      [{ property: "connectUrl", reason: '"http://connect.internal:8083" is not https but tlsCa is set' }],
    ],
    [
      "tlsCa not PEM",
      { connectUrl: "https://connect:8443", tlsCa: "abc" },
      [{ property: "tlsCa", reason: "must be a PEM certificate (-----BEGIN CERTIFICATE-----)" }],
    ],
    [
      "config not a map",
      { config: ["a"] },
      [{ property: "config", reason: "must be a map of config keys to string values" }],
    ],
    ["empty config", { config: {} }, [{ property: "config", reason: "must not be empty" }]],
    [
      "no connector.class",
      { config: config({ "connector.class": undefined }) },
      [{ property: 'config["connector.class"]', reason: "is required (the connector plugin class)" }],
    ],
    [
      "number value",
      { config: config({ "tasks.max": 2 }) },
      [
        {
          property: 'config["tasks.max"]',
          reason: "must be a string (Kafka Connect configs are strings), got 2",
        },
      ],
    ],
    [
      "plaintext password",
      { config: config({ "database.password": "hunter2" }) },
      [{ property: 'config["database.password"]', reason: PLACEHOLDER_HINT }],
    ],
    [
      "plaintext ssl key password",
      { config: config({ "ssl.key.password": "k" }) },
      [{ property: 'config["ssl.key.password"]', reason: PLACEHOLDER_HINT }],
    ],
    [
      "plaintext AWS secret key",
      { config: config({ "aws.secret.access.key": "AKIA/x" }) },
      [{ property: 'config["aws.secret.access.key"]', reason: PLACEHOLDER_HINT }],
    ],
    [
      "plaintext token",
      { config: config({ "schema.registry.token": "t" }) },
      [{ property: 'config["schema.registry.token"]', reason: PLACEHOLDER_HINT }],
    ],
    [
      "JAAS with plaintext password",
      {
        config: config({
          "producer.override.sasl.jaas.config":
            'org.apache.kafka.common.security.plain.PlainLoginModule required username="cdc" password="pw";',
        }),
      },
      [
        {
          property: 'config["producer.override.sasl.jaas.config"]',
          reason:
            'holds a plaintext password; write each as a config-provider placeholder, e.g. password="${secretsmanager:<secret name>:password}"',
        },
      ],
    ],
    [
      "config name mismatch",
      { config: config({ name: "other" }) },
      [
        {
          property: 'config["name"]',
          reason: 'is "other" but the connector is named "cdc-source"; Connect rejects the mismatch',
        },
      ],
    ],
    [
      "negative timeout",
      { timeouts: { runningTimeoutSeconds: -1 } },
      [{ property: "timeouts.runningTimeoutSeconds", reason: "must be a positive number, got -1" }],
    ],
    [
      "unknown timeout",
      { timeouts: { runningTimeout: 5 } },
      [
        {
          property: "timeouts.runningTimeout",
          reason:
            "is not a known setting (runningTimeoutSeconds, requestTimeoutSeconds, pollIntervalSeconds)",
        },
      ],
    ],
    [
      "zero attempts",
      { retry: { maxAttempts: 0 } },
      [{ property: "retry.maxAttempts", reason: "must be a positive number, got 0" }],
    ],
    [
      "auth without user",
      { auth: { username: "" } },
      [{ property: "auth.username", reason: "must be a non-empty string" }],
    ],
    [
      "auth with a password",
      { auth: { username: "u", password: "p" } },
      [
        {
          property: "auth.password",
          reason:
            "is not an input: the provider reads the password from auth.passwordEnvVar (default KAFKA_CONNECT_PASSWORD)",
        },
      ],
    ],
  ])("%s", (_case, patch, expected) => {
    expect(checkConnectorInputs({ ...valid(), ...patch })).toEqual(expected);
  });

  it("reports every problem at once", () => {
    const failures = checkConnectorInputs({ ...valid(), name: "", connectUrl: "ftp://x", config: {} });
    expect(failures.map((f) => f.property)).toEqual(["name", "connectUrl", "config"]);
  });
});

describe("credential keys", () => {
  it.each([
    ["database.password", true],
    ["connection.password", true],
    ["ssl.key.password", true],
    ["ssl.keystore.key", true],
    ["aws.secret.access.key", true],
    ["s3.sse.customer.key", true],
    ["schema.registry.basic.auth.user.info", true],
    ["api_key", true],
    ["client.secret", true],
    ["database.user", false],
    ["key.converter", false],
    ["key.converter.schemas.enable", false],
    ["aws.access.key.id", false],
    ["sasl.oauthbearer.token.endpoint.url", false],
    ["topic.prefix", false],
  ])("%s -> %s", (key, expected) => {
    expect(isSensitiveKey(key)).toBe(expected);
  });

  it.each([
    ["database.password", PASSWORD_PLACEHOLDER, undefined],
    ["database.password", "${env:CDC_PASSWORD}", undefined],
    ["database.password", "${file:/etc/kafka/secrets.properties:cdc.password}", undefined],
    ["sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;", undefined],
    [
      "sasl.jaas.config",
      `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="${PASSWORD_PLACEHOLDER}";`,
      undefined,
    ],
    ["topic.prefix", "cdc", undefined],
  ])("%s = %s is safe", (key, value, expected) => {
    expect(plaintextSecretReason(key, value)).toBe(expected);
  });

  const ARN_PLACEHOLDER =
    "${secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:cdc-db-AbCdEf:password}";
  const ARN_MISREAD =
    'is a placeholder Kafka Connect would misread: it splits ${provider:path:key} at the first two colons, so this is provider "secretsmanager", ' +
    'path "arn", key "aws:secretsmanager:eu-west-1:123456789012:secret:cdc-db-AbCdEf:password"; a path cannot hold a colon: ' +
    "reference the secret by its name, not its ARN (${secretsmanager:<secret name>:password})";

  it("rejects a placeholder that gives the secret by ARN, which Kafka would split at its first colon", () => {
    expect(plaintextSecretReason("database.password", ARN_PLACEHOLDER)).toBe(ARN_MISREAD);
    expect(
      plaintextSecretReason(
        "sasl.jaas.config",
        `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="${ARN_PLACEHOLDER}";`,
      ),
    ).toBe(`option password ${ARN_MISREAD}`);
    expect(
      checkConnectorInputs({
        ...valid(),
        config: { ...(valid().config as object), "database.password": ARN_PLACEHOLDER },
      }),
    ).toEqual([{ property: 'config["database.password"]', reason: ARN_MISREAD }]);
  });

  it("rejects a placeholder with text around it in a password key", () => {
    expect(plaintextSecretReason("database.password", "x${env:PW}")).toBe(PLACEHOLDER_HINT);
  });
});
