// Reading Connect's validate answers, as pure functions, and the answers the emulator does not produce
// (an unknown plugin reported as a 200 with an error on connector.class, a malformed body).
import { describe, expect, it } from "vitest";
import {
  hideSecrets,
  rejectedKeys,
  secretValues,
  unknownPluginMessage,
  validateBeforeApply,
  type ConfigValidation,
  type ConnectClient,
} from "../../../connectors/connect-api";
import { PASSWORD_PLACEHOLDER, SOURCE_CONFIG } from "./fixtures";

function answer(errors: Record<string, string[]>, values: Record<string, string> = {}): ConfigValidation {
  const configs = Object.entries(errors).map(([name, messages]) => ({
    value: { name, value: values[name] ?? null, errors: messages },
  }));
  return {
    name: "x",
    error_count: configs.reduce((sum, c) => sum + c.value.errors.length, 0),
    configs,
  };
}

async function rejection(result: unknown): Promise<string> {
  const client = { validateConfig: async () => result } as unknown as ConnectClient;
  return validateBeforeApply(client, "cdc-source", "http://connect:8083", SOURCE_CONFIG).then(
    () => "no failure",
    (err: unknown) => (err as Error).message,
  );
}

describe("secretValues and hideSecrets", () => {
  it.each([
    ["a placeholder is not a secret", { "database.password": PASSWORD_PLACEHOLDER }, []],
    ["a plaintext credential is", { "database.password": "hunter2", "database.user": "cdc" }, ["hunter2"]],
    ["a JAAS line with a plaintext password", { "sasl.jaas.config": 'password="p"' }, ['password="p"']],
    ["an empty value hides nothing", { "api.key": "" }, []],
  ])("%s", (_case, config, expected) => {
    expect(secretValues(config)).toEqual(expected);
  });

  it("takes the value Connect reports (resolved) too, longest first, and hides every occurrence", () => {
    const result = answer({ "database.password": [] }, { "database.password": "s3cr3t-long" });
    const secrets = secretValues(
      { "database.password": PASSWORD_PLACEHOLDER, "api.token": "s3cr3t" },
      result,
    );
    expect(secrets).toEqual(["s3cr3t-long", "s3cr3t"]);
    expect(hideSecrets("got s3cr3t-long, then s3cr3t", secrets)).toBe("got [hidden], then [hidden]");
  });

  it("rejectedKeys keeps Connect's order and hides secrets in every key's messages", () => {
    const result = answer(
      {
        "database.hostname": ["cannot log in with hunter2"],
        "tasks.max": [],
        "database.password": ["bad hunter2"],
      },
      { "database.password": "hunter2" },
    );
    expect(rejectedKeys(result, SOURCE_CONFIG)).toEqual([
      { key: "database.hostname", messages: ["cannot log in with [hidden]"] },
      { key: "database.password", messages: ["bad [hidden]"] },
    ]);
  });
});

describe("validateBeforeApply on answers the emulator does not give", () => {
  it("reads a 200 whose connector.class error says the class is missing as an unknown plugin", async () => {
    const missing = "Failed to find any class that implements Connector and which name matches x.Y";
    expect(unknownPluginMessage(answer({ "connector.class": [missing] }))).toBe(missing);
    expect(await rejection(answer({ "connector.class": [missing] }))).toMatch(
      /the worker image probably lacks the plugin.*reported: Failed to find any class/,
    );
  });

  it("fails on a body without error_count (a proxy's page), and on errors attached to no key", async () => {
    expect(await rejection("<html>bad gateway</html>")).toMatch(/answered without an error_count/);
    expect(await rejection({ name: "x", error_count: 1, configs: [] })).toMatch(
      /reported 1 error\(s\);.*\n {2}\(Connect attached the errors to no key\)$/s,
    );
    expect(await rejection(answer({}))).toBe("no failure");
  });
});
