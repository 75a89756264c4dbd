// How Kafka Connect splits a config-provider placeholder, and that every parser in the repository splits
// it the same way: connectors/config (settings validation), connectors/connect-api (the provider's check)
// and connectors/local (the local runtime's resolution).
import { describe, expect, it } from "vitest";
import {
  KAFKA_VARIABLE_PATTERN,
  parseConfigPlaceholder,
  placeholderSplitProblem,
} from "../../../connectors/config";
import { placeholderProblem } from "../../../connectors/connect-api";
import { resolvePlaceholders } from "../../../connectors/local/placeholders";

// org.apache.kafka.common.config.ConfigTransformer.DEFAULT_PATTERN, as the Java source spells it
// (a Java string literal: each backslash doubled).
const JAVA_LITERAL = String.raw`"\\$\\{([^}]*?):(([^}]*?):)?([^}]*?)\\}"`;
const KAFKA_PATTERN = new RegExp(JAVA_LITERAL.slice(1, -1).replace(/\\\\/g, "\\"));

/** What ConfigTransformer's ConfigVariable holds for the first match: group 1, group 3 or "", group 4. */
function kafkaSplit(value: string): { provider: string; path: string; key: string } | undefined {
  const match = KAFKA_PATTERN.exec(value);
  return match ? { provider: match[1]!, path: match[3] ?? "", key: match[4]! } : undefined;
}

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cdc-db-AbCdEf";

describe("the Kafka placeholder pattern", () => {
  it("is the one ConfigTransformer compiles", () => {
    expect(KAFKA_VARIABLE_PATTERN).toBe(KAFKA_PATTERN.source);
  });

  it.each<[string, string, { provider: string; path: string; key: string }, boolean]>([
    [
      "secret by name",
      "${secretsmanager:cdc-pipeline/dev/cdc_connector-AbCdEf:password}",
      { provider: "secretsmanager", path: "cdc-pipeline/dev/cdc_connector-AbCdEf", key: "password" },
      true,
    ],
    [
      "secret by ARN",
      `\${secretsmanager:${ARN}:password}`,
      { provider: "secretsmanager", path: "arn", key: `${ARN.slice("arn:".length)}:password` },
      false,
    ],
    ["env, no path", "${env:CDC_DB_PASSWORD}", { provider: "env", path: "", key: "CDC_DB_PASSWORD" }, true],
    [
      "file",
      "${file:/etc/kafka/db.properties:password}",
      { provider: "file", path: "/etc/kafka/db.properties", key: "password" },
      true,
    ],
    [
      "file path with a colon",
      "${file:/mnt/c:/db.properties:password}",
      { provider: "file", path: "/mnt/c", key: "/db.properties:password" },
      false,
    ],
  ])("%s: %s", (_case, value, expected, sound) => {
    expect(kafkaSplit(value)).toEqual(expected);
    const parsed = parseConfigPlaceholder(value);
    expect(parsed && { ...parsed, path: parsed.path ?? "" }).toEqual(expected);
    expect(placeholderSplitProblem(parsed!) === undefined).toBe(sound);
    expect(placeholderProblem(value) === undefined).toBe(sound);
  });

  it("the local runtime resolves what Kafka would, and rejects an ARN with the key and the fix", () => {
    process.env["CDC_SPLIT_TEST_PASSWORD"] = "pw";
    try {
      expect(resolvePlaceholders({ "database.password": "x-${env:CDC_SPLIT_TEST_PASSWORD}-y" })).toEqual({
        "database.password": "x-pw-y",
      });
    } finally {
      delete process.env["CDC_SPLIT_TEST_PASSWORD"];
    }
    expect(() => resolvePlaceholders({ "database.password": `\${secretsmanager:${ARN}:password}` })).toThrow(
      `config key "database.password": Kafka splits \${provider:path:key} at its first two colons, so this reads as ` +
        `provider "secretsmanager", path "arn", key "${ARN.slice("arn:".length)}:password"; a path cannot hold a colon: ` +
        "reference the secret by its name, not its ARN (e.g. ${secretsmanager:<secret name>:password})",
    );
  });
});
