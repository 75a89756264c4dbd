// The cdc-stack CLI as a real process where the real Pulumi CLI (real-cli.test.ts, real-destroy.test.ts) cannot
// show the point: a stand-in `pulumi` on PATH records each call, for the arguments a KMS secrets provider gets
// and to show that rejected input starts no pulumi at all.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { settingsSchema } from "../../infra/config-schema";
import { REVIEW_ENV, runCli, type CliResult } from "./run-cli";

const ROOT = join(__dirname, "..", "..");

const LOCAL = "file:///var/pulumi-state";
const S3 = "s3://acme-pulumi-state?region=eu-west-1";
const WHOAMI = ["whoami", "--json"];
const KMS = "awskms://alias/pulumi-review?region=eu-west-1";

let project: string;
let bin: string;
let log: string;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), "cdc-stack-"));
  project = join(dir, "project");
  bin = join(dir, "bin");
  log = join(dir, "pulumi-calls.jsonl");
  mkdirSync(project);
  mkdirSync(bin);
  for (const file of ["Pulumi.yaml", "Pulumi.pr.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]) {
    copyFileSync(join(ROOT, file), join(project, file));
  }
  writeFileSync(
    join(bin, "pulumi"),
    `#!/bin/sh\nexec "${process.execPath}" "${join(__dirname, "fixtures", "fake-pulumi.mjs")}" "$@"\n`,
  );
  chmodSync(join(bin, "pulumi"), 0o755);
});

afterEach(() => rmSync(join(project, ".."), { recursive: true, force: true }));

function run(
  args: string[],
  env: Record<string, string> = {},
  path = `${bin}:${process.env.PATH}`,
): Promise<CliResult> {
  return runCli(args, project, { PATH: path, FAKE_PULUMI_LOG: log, FAKE_PULUMI_BACKEND: LOCAL, ...env });
}

function calls(): { args: string[]; cwd: string }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as { args: string[]; cwd: string });
}

describe("preview and up", () => {
  it("say how to get the Pulumi CLI when it is not on PATH", async () => {
    const result = await run(["preview", "dev"], {}, "/nonexistent");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "cdc-stack: the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/)\n",
    );
  });

  it.each([
    [["up"], 2, "error: missing required argument 'stack'\n"],
    [["deploy", "dev"], 2, "error: unknown command 'deploy'\n(Did you mean destroy?)\n"],
    [
      ["preview", "bad name"],
      2,
      'error: stack name "bad name" is not valid: start with a letter or digit, then letters, digits, "-", "_" or "."; optionally prefixed by "org/"\n',
    ],
  ])("reject bad arguments %j before running pulumi", async (args, code, stderr) => {
    const result = await run(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toBe(stderr);
    expect(calls()).toEqual([]);
  });
});

describe("stack:init", () => {
  it("passes the secrets provider to pulumi stack select --create", async () => {
    const env = { ...REVIEW_ENV, PULUMI_SECRETS_PROVIDER: KMS, FAKE_PULUMI_BACKEND: S3 };
    expect(await run(["init", "pr-7"], env)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(calls()).toEqual([
      { args: WHOAMI, cwd: project },
      { args: ["stack", "select", "--create", "pr-7", "--secrets-provider", KMS], cwd: project },
    ]);
  });

  it("creates dev and prod from their own files, with the KMS key on an S3 backend", async () => {
    for (const stack of ["dev", "prod"]) {
      const before = readFileSync(join(project, `Pulumi.${stack}.yaml`), "utf8");
      expect(await run(["init", stack, "--secrets-provider", KMS], { FAKE_PULUMI_BACKEND: S3 })).toEqual({
        code: 0,
        stdout: "",
        stderr: "",
      });
      expect(readFileSync(join(project, `Pulumi.${stack}.yaml`), "utf8")).toBe(before);
    }
    expect(calls().map((c) => c.args)).toEqual([
      WHOAMI,
      ["stack", "select", "--create", "dev", "--secrets-provider", KMS],
      WHOAMI,
      ["stack", "select", "--create", "prod", "--secrets-provider", KMS],
    ]);
  });

  const bucketNeedsKms =
    "the backend s3://acme-pulumi-state?region=eu-west-1 is a bucket: create dev with a KMS key, --secrets-provider awskms://alias/<alias>?region=<region> (or PULUMI_SECRETS_PROVIDER); the passphrase provider is for a local file:// backend\n";
  it.each([
    [[], `error: ${bucketNeedsKms}`],
    [["--secrets-provider", "passphrase"], `error: --secrets-provider passphrase: ${bucketNeedsKms}`],
  ])("refuses %j for a new stack on an S3 backend (exit 2), creating nothing", async (extra, stderr) => {
    const result = await run(["init", "dev", ...extra], { FAKE_PULUMI_BACKEND: S3 });
    expect(result).toEqual({ code: 2, stdout: "", stderr });
    expect(calls().map((c) => c.args)).toEqual([WHOAMI]);
  });

  it("refuses a stack file with a passphrase salt on an S3 backend, naming the command that moves it to KMS", async () => {
    const file = join(project, "Pulumi.dev.yaml");
    writeFileSync(file, `encryptionsalt: v1:abc:v1:def:ghi\n${readFileSync(file, "utf8")}`);
    const before = readFileSync(file, "utf8");
    const result = await run(["init", "dev", "--secrets-provider", KMS], { FAKE_PULUMI_BACKEND: S3 });
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "cdc-stack: Pulumi.dev.yaml holds a passphrase salt, but the backend s3://acme-pulumi-state?region=eu-west-1 is a bucket, where stacks use a KMS key (CI has no passphrase): move the stack to KMS with `pulumi stack change-secrets-provider --stack dev awskms://alias/<alias>?region=<region>`\n",
    });
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("refuses to replace a stack file with other settings without --force, and changes nothing", async () => {
    expect((await run(["init", "pr-7"], REVIEW_ENV)).code).toBe(0);
    const before = readFileSync(join(project, "Pulumi.pr-7.yaml"), "utf8");
    const result = await run(["init", "pr-7"], { ...REVIEW_ENV, AWS_REGION: "us-east-1" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "cdc-stack: Pulumi.pr-7.yaml exists with other settings than Pulumi.pr.yaml gives: --force replaces its config (its secrets settings are kept)\n",
    );
    expect(readFileSync(join(project, "Pulumi.pr-7.yaml"), "utf8")).toBe(before);
    expect(calls()).toHaveLength(2);
  });

  it("names the missing variables and writes nothing", async () => {
    const result = await run(["init", "pr-9"], { AWS_REGION: "eu-west-1" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        "cdc-stack: Pulumi.pr.yaml:",
        "  config.cdc-pipeline:existingVpcId: variable REVIEW_VPC_ID is not set (export it, or pass --var REVIEW_VPC_ID=<value>)",
        "  config.cdc-pipeline:existingPrivateSubnetIds: variable REVIEW_PRIVATE_SUBNET_IDS is not set (export it, or pass --var REVIEW_PRIVATE_SUBNET_IDS=<value>)",
        "  config.cdc-pipeline:deployerCidrs: variable DEPLOYER_CIDRS is not set (export it, or pass --var DEPLOYER_CIDRS=<value>)",
        "",
      ].join("\n"),
    );
    expect(existsSync(join(project, "Pulumi.pr-9.yaml"))).toBe(false);
    expect(calls()).toEqual([]);
  });

  it.each([
    [
      ["init", "staging"],
      2,
      "error: Pulumi.staging.yaml not found: --template <file> is required for staging (review stacks pr-<n> default to Pulumi.pr.yaml, other stacks use their own Pulumi.staging.yaml)\n",
    ],
    [
      ["init", "staging", "--template", "Pulumi.staging.yaml"],
      2,
      `error: --template Pulumi.staging.yaml: not found in PROJECT\n`,
    ],
    [
      ["init", "dev", "--var", "AWS_REGION=us-east-1"],
      2,
      "error: --var and --force apply to a template; dev is created from its own Pulumi.dev.yaml\n",
    ],
    [
      ["init", "bad/name/x/y"],
      2,
      'error: stack name "bad/name/x/y" is not valid: start with a letter or digit, then letters, digits, "-", "_" or "."; optionally prefixed by "org/"\n',
    ],
    [
      ["init", "pr-1", "--secrets-provider", "vault"],
      2,
      "error: --secrets-provider vault: expected passphrase, default or a KMS URL such as awskms://alias/<alias>?region=<region>\n",
    ],
    [
      ["init", "pr-1", "--var", "lower=1"],
      2,
      "error: --var lower=1: expected NAME=value with NAME in upper case\n",
    ],
  ])("rejects %j", async (args, code, stderr) => {
    const result = await run(args, REVIEW_ENV);
    expect(result.code).toBe(code);
    expect(result.stderr).toBe(stderr.replace("PROJECT", project));
    expect(calls().filter((c) => c.args[0] !== "whoami")).toEqual([]);
  });
});

describe("destroy", () => {
  // One parser: destroy reads cdc-pipeline:ephemeral exactly as the program's config schema does.
  it.each(["true", "yes", "on", "1", "TRUE", "maybe"])(
    "reads ephemeral: %s as the program does: destroys what the program calls ephemeral, else names the value",
    async (value) => {
      writeFileSync(join(project, "Pulumi.pr-8.yaml"), `config:\n  cdc-pipeline:ephemeral: "${value}"\n`);
      const result = await run(["destroy", "pr-8", "--yes"]);
      const parsed = settingsSchema.shape.ephemeral.safeParse(value);
      if (parsed.success) {
        expect(parsed.data).toBe(true);
        expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
        expect(calls().map((c) => c.args)).toEqual([["destroy", "--stack", "pr-8", "--yes"]]);
      } else {
        expect(result).toEqual({
          code: 1,
          stdout: "",
          stderr: `cdc-stack: Pulumi.pr-8.yaml:\n  config.cdc-pipeline:ephemeral: ${parsed.error.issues[0]!.message} (got "${value}")\n`,
        });
        expect(calls()).toEqual([]);
      }
    },
  );

  it("refuses a stack without a stack file, pointing at stack:init", async () => {
    const result = await run(["destroy", "pr-8"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "cdc-stack: Pulumi.pr-8.yaml not found: destroy reads the stack's config to check it is ephemeral (run `npm run stack:init -- pr-8` first)\n",
    );
    expect(calls()).toEqual([]);
  });
});

describe("sweep", () => {
  it.each([
    [
      ["sweep", "--stacks", "x.json", "--repository", "acme/cdc-pipeline"],
      {},
      2,
      "error: sweep: GITHUB_TOKEN (or GH_TOKEN) must be set\n",
    ],
    [
      ["sweep", "--repository", "acme/cdc-pipeline"],
      { GITHUB_TOKEN: "t" },
      2,
      "error: required option '--stacks <file>' not specified\n",
    ],
    [
      ["sweep", "--stacks", "x.json"],
      { GITHUB_TOKEN: "t" },
      2,
      "error: required option '--repository <owner/name>' not specified\n",
    ],
    [
      ["sweep", "--stacks", "missing.json", "--repository", "acme/cdc-pipeline"],
      { GITHUB_TOKEN: "t" },
      1,
      "cdc-stack: --stacks: PROJECT/missing.json not found\n",
    ],
  ])("rejects %j", async (args, env, code, stderr) => {
    const result = await run(
      args.map((a) => (a.endsWith(".json") ? join(project, a) : a)),
      env,
    );
    expect(result.code).toBe(code);
    expect(result.stderr).toBe(stderr.replace("PROJECT", project));
    expect(result.stdout).toBe("");
  });
});
