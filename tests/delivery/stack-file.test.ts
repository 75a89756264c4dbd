import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  isEphemeralStackFile,
  stackFileSecrets,
  withSecretsSettings,
  renderTemplate,
  StackFileError,
  stackFileConfig,
  stackFileText,
} from "../../delivery/stack-file";

const ROOT = join(__dirname, "..", "..");

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof StackFileError) return error.problems;
    throw error;
  }
  throw new Error("expected a StackFileError");
}

const REVIEW_VARS = {
  AWS_REGION: "eu-west-1",
  REVIEW_VPC_ID: "vpc-0123456789abcdef0",
  REVIEW_PRIVATE_SUBNET_IDS: '["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]',
  DEPLOYER_CIDRS: '["10.200.0.0/24"]',
  PR_NUMBER: "42",
  STACK: "pr-42",
};

describe("renderTemplate", () => {
  it("substitutes variables in every string, keeps other values, turns a JSON-valued variable into YAML", () => {
    const text = [
      "config:",
      "  aws:region: ${REGION}",
      '  app:name: "cdc-${STACK}-${STACK}"',
      '  app:count: "3"',
      "  app:flag: true",
      '  app:tags: { "pr": "${PR}", "team": "data" }',
      "  app:list: ${LIST}",
      '  app:nested: [{ "a": "${PR}" }]',
    ].join("\n");
    expect(
      renderTemplate(text, "t.yaml", { REGION: "eu-west-1", STACK: "pr-7", PR: "7", LIST: ' ["a", "b"] ' }),
    ).toEqual({
      "aws:region": "eu-west-1",
      "app:name": "cdc-pr-7-pr-7",
      "app:count": "3",
      "app:flag": true,
      "app:tags": { pr: "7", team: "data" },
      "app:list": ["a", "b"],
      "app:nested": [{ a: "7" }],
    });
  });

  it.each([
    [
      "an unset variable",
      "config:\n  a:b: ${MISSING}",
      {},
      ["config.a:b: variable MISSING is not set (export it, or pass --var MISSING=<value>)"],
    ],
    [
      "an empty variable",
      "config:\n  a:b: x-${EMPTY}",
      { EMPTY: "" },
      ["config.a:b: variable EMPTY is not set (export it, or pass --var EMPTY=<value>)"],
    ],
    [
      "a lower-case name",
      "config:\n  a:b: ${lower}",
      {},
      ["config.a:b: ${lower} is not a variable (names are upper case: ${REVIEW_VPC_ID})"],
    ],
    [
      "a variable in a list",
      "config:\n  a:b: [x, '${NOPE}']",
      {},
      ["config.a:b[1]: variable NOPE is not set (export it, or pass --var NOPE=<value>)"],
    ],
    [
      "bad JSON in a list variable",
      "config:\n  a:b: ${L}",
      { L: "[a, b]" },
      ["config.a:b: variable L looks like a JSON list or map but is not valid JSON"],
    ],
    [
      "a secret",
      "config:\n  a:b:\n    secure: AAAB",
      {},
      [
        "config.a:b: the stack takes no secret config values (its passwords are generated and kept in Secrets Manager)",
      ],
    ],
    [
      "a key without namespace",
      "config:\n  region: x",
      {},
      ["config.region: keys are namespaced, e.g. aws:region or cdc-pipeline:ephemeral"],
    ],
    [
      "secrets settings",
      "encryptionsalt: v1:x\nconfig:\n  a:b: c",
      {},
      ["encryptionsalt: a template holds only `config`"],
    ],
    [
      "no config",
      "other: 1",
      {},
      ["other: a template holds only `config`", "config: must be a mapping of config keys to values"],
    ],
    ["a list document", "- a", {}, ["must be a YAML mapping with a `config` key"]],
    [
      "broken YAML",
      "config:\n  a:b: [",
      {},
      ["not valid YAML: unexpected end of the stream within a flow collection (3:1)"],
    ],
  ])("reports %s with the path", (_what, text, vars, expected) => {
    expect(problems(() => renderTemplate(text, "t.yaml", vars))).toEqual(expected);
  });

  it("reports every problem at once, naming the file", () => {
    expect(() => renderTemplate("config:\n  a:b: ${X}\n  c:d: ${Y}", "Pulumi.pr.yaml", {})).toThrow(
      "Pulumi.pr.yaml:\n  config.a:b: variable X is not set (export it, or pass --var X=<value>)\n" +
        "  config.c:d: variable Y is not set (export it, or pass --var Y=<value>)",
    );
  });
});

describe("Pulumi.pr.yaml", () => {
  const template = readFileSync(join(ROOT, "Pulumi.pr.yaml"), "utf8");

  // tests/infra/stack-review.test.ts runs the whole program on this rendering.
  it("renders a review stack: ephemeral, in the review VPC, MSK Serverless", () => {
    const config = renderTemplate(template, "Pulumi.pr.yaml", REVIEW_VARS);
    expect(config).toEqual({
      "aws:region": "eu-west-1",
      "cdc-pipeline:ephemeral": "true",
      "cdc-pipeline:tags": { env: "review", "pull-request": "42" },
      "cdc-pipeline:existingVpcId": "vpc-0123456789abcdef0",
      "cdc-pipeline:existingPrivateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      "cdc-pipeline:existingVpcAwsApiCidrs": ["0.0.0.0/0"],
      "cdc-pipeline:deployerCidrs": ["10.200.0.0/24"],
      "cdc-pipeline:kafkaMode": "serverless",
      "cdc-pipeline:rdsInstanceClass": "db.t4g.micro",
      "cdc-pipeline:rdsAllocatedStorageGb": "20",
      "cdc-pipeline:rdsMaxAllocatedStorageGb": "20",
      "cdc-pipeline:connectDesiredCount": "1",
      "cdc-pipeline:connectMaxCount": "1",
      "cdc-pipeline:analyticsSchedule": "rate(15 minutes)",
    });
  });

  it("names each review variable the workflows must provide", () => {
    expect(
      problems(() => renderTemplate(template, "Pulumi.pr.yaml", { PR_NUMBER: "1", STACK: "pr-1" })),
    ).toEqual([
      "config.aws:region: variable AWS_REGION is not set (export it, or pass --var AWS_REGION=<value>)",
      "config.cdc-pipeline:existingVpcId: variable REVIEW_VPC_ID is not set (export it, or pass --var REVIEW_VPC_ID=<value>)",
      "config.cdc-pipeline:existingPrivateSubnetIds: variable REVIEW_PRIVATE_SUBNET_IDS is not set (export it, or pass --var REVIEW_PRIVATE_SUBNET_IDS=<value>)",
      "config.cdc-pipeline:deployerCidrs: variable DEPLOYER_CIDRS is not set (export it, or pass --var DEPLOYER_CIDRS=<value>)",
    ]);
  });
});

describe("stackFileText", () => {
  const config = {
    "aws:region": "eu-west-1",
    "cdc-pipeline:tags": { pr: "3" },
    "cdc-pipeline:ids": ["a", "b"],
  };

  it("writes the config under a header that names the template", () => {
    expect(stackFileText(config, "Pulumi.pr.yaml")).toBe(
      [
        "# Made by `npm run stack:init` from Pulumi.pr.yaml: edit the template, not this file.",
        "config:",
        "  aws:region: eu-west-1",
        "  cdc-pipeline:tags:",
        '    pr: "3"',
        "  cdc-pipeline:ids:",
        "    - a",
        "    - b",
        "",
      ].join("\n"),
    );
  });

  it("keeps the secrets settings of the file it replaces and drops its old config", () => {
    const existing =
      "secretsprovider: awskms://alias/pulumi\nencryptedkey: AQICAH\nconfig:\n  aws:region: us-east-1\n  old:key: x\n";
    const text = stackFileText(config, "Pulumi.pr.yaml", existing);
    expect(load(text)).toEqual({ secretsprovider: "awskms://alias/pulumi", encryptedkey: "AQICAH", config });
    const salted = stackFileText(config, "Pulumi.pr.yaml", "encryptionsalt: v1:abc\n");
    expect(load(salted)).toEqual({ encryptionsalt: "v1:abc", config });
  });
});

describe("isEphemeralStackFile", () => {
  it.each([
    ['config:\n  cdc-pipeline:ephemeral: "true"\n', true],
    ["config:\n  cdc-pipeline:ephemeral: true\n", true],
    ['config:\n  cdc-pipeline:ephemeral: "false"\n', false],
    ['config:\n  other:ephemeral: "true"\n', false],
    ["config:\n  aws:region: eu-west-1\n", false],
    ["encryptionsalt: v1:x\n", false],
    ["", false],
  ])("%j → %j", (text, expected) => {
    expect(isEphemeralStackFile(text, "Pulumi.x.yaml")).toBe(expected);
  });

  it("says the committed long-lived stacks are not ephemeral", () => {
    for (const stack of ["dev", "prod"]) {
      expect(isEphemeralStackFile(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8"), stack)).toBe(
        false,
      );
    }
  });

  it("rejects a config that is not a mapping", () => {
    expect(() => isEphemeralStackFile("config: [1]\n", "Pulumi.x.yaml")).toThrow(
      "Pulumi.x.yaml:\n  config: must be a mapping of config keys to values",
    );
  });
});

describe("withSecretsSettings", () => {
  const own = "# dev: long-lived\nconfig:\n  aws:region: eu-west-1 # the region\n";
  it.each([
    ["nothing new", own, {}, own],
    [
      "a passphrase salt, before config, comments kept",
      own,
      { encryptionsalt: "v1:abc:v1:def:ghi" },
      "# dev: long-lived\nencryptionsalt: v1:abc:v1:def:ghi\nconfig:\n  aws:region: eu-west-1 # the region\n",
    ],
    [
      "a KMS key replacing a stale salt",
      `encryptionsalt: v1:old\n${own}`,
      { secretsprovider: "awskms://alias/pulumi?region=eu-west-1", encryptedkey: "AQICAHh" },
      "# dev: long-lived\nsecretsprovider: awskms://alias/pulumi?region=eu-west-1\nencryptedkey: AQICAHh\nconfig:\n  aws:region: eu-west-1 # the region\n",
    ],
    ["a file without config", "# empty", { encryptionsalt: "v1:x" }, "# empty\nencryptionsalt: v1:x\n"],
    [
      "settings already there, wherever they are: unchanged",
      "encryptionsalt: v1:x\n# dev\nconfig:\n  aws:region: eu-west-1\n",
      { encryptionsalt: "v1:x" },
      "encryptionsalt: v1:x\n# dev\nconfig:\n  aws:region: eu-west-1\n",
    ],
  ])("%s", (_what, text, secrets, expected) => {
    const result = withSecretsSettings(text, secrets);
    expect(result).toBe(expected);
    expect(stackFileSecrets(result, "f")).toEqual(secrets);
  });

  it("keeps the committed dev and prod files byte for byte apart from the settings", () => {
    for (const stack of ["dev", "prod"]) {
      const text = readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
      const salted = withSecretsSettings(text, { encryptionsalt: "v1:s" });
      expect(salted.replace("encryptionsalt: v1:s\n", "")).toBe(text);
      expect(stackFileConfig(salted, stack)).toEqual(stackFileConfig(text, stack));
    }
  });
});
