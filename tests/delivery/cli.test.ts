// The cdc-stack CLI end to end: a real process, a stand-in `pulumi` on PATH that records each
// call (the CLI cannot be installed here), and the GitHub emulator for the sweep.
import { execFile } from "node:child_process";
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
import { load } from "js-yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startGitHubEmulator } from "./github-emulator";

const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const CLI = join(ROOT, "delivery", "cli.ts");
const REVIEW_ENV = {
  AWS_REGION: "eu-west-1",
  REVIEW_VPC_ID: "vpc-0123456789abcdef0",
  REVIEW_PRIVATE_SUBNET_IDS: '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]',
  DEPLOYER_CIDRS: '["10.200.0.0/24"]',
};

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

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  env: Record<string, string> = {},
  options: { path?: string } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, CLI, ...args, "--cwd", project],
      {
        env: {
          PATH: options.path ?? `${bin}:${process.env.PATH}`,
          HOME: process.env.HOME ?? "/tmp",
          FAKE_PULUMI_LOG: log,
          ...env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

function calls(): { args: string[]; cwd: string }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as { args: string[]; cwd: string });
}

const argsOf = (): string[][] => calls().map((c) => c.args);

describe("preview and up", () => {
  it("run pulumi in the project with the policy pack and pass further arguments on", async () => {
    expect(await run(["preview", "dev"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await run(["up", "prod", "--yes", "--target", "urn:pulumi:prod::cdc-pipeline::x"])).code).toBe(0);
    expect(calls()).toEqual([
      { args: ["preview", "--stack", "dev", "--diff", "--policy-pack", "infra/policy"], cwd: project },
      {
        args: [
          "up",
          "--stack",
          "prod",
          "--policy-pack",
          "infra/policy",
          "--yes",
          "--target",
          "urn:pulumi:prod::cdc-pipeline::x",
        ],
        cwd: project,
      },
    ]);
  });

  it("exit with pulumi's exit code", async () => {
    expect((await run(["up", "dev"], { FAKE_PULUMI_EXIT_UP: "255" })).code).toBe(255);
  });

  it("say how to get the Pulumi CLI when it is not on PATH", async () => {
    const result = await run(["preview", "dev"], {}, { path: "/nonexistent" });
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
      1,
      'cdc-stack: stack name "bad name" is not valid: start with a letter or digit, then letters, digits, "-", "_" or "."; optionally prefixed by "org/"\n',
    ],
  ])("reject bad arguments %j before running pulumi", async (args, code, stderr) => {
    const result = await run(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toBe(stderr);
    expect(calls()).toEqual([]);
  });
});

describe("stack:init", () => {
  it("renders Pulumi.pr-<n>.yaml from the template and keeps the salt a new stack got", async () => {
    const result = await run(["init", "pr-42"], REVIEW_ENV);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(argsOf()).toEqual([["stack", "select", "--create", "pr-42"]]);
    const text = readFileSync(join(project, "Pulumi.pr-42.yaml"), "utf8");
    expect(text.split("\n")[0]).toBe(
      "# Made by `npm run stack:init` from Pulumi.pr.yaml: edit the template, not this file.",
    );
    const file = load(text) as { encryptionsalt: string; config: Record<string, unknown> };
    expect(file.encryptionsalt).toBe("v1:c2FsdA==:v1:aXY=:Y3Q=");
    expect(file.config["cdc-pipeline:tags"]).toEqual({ env: "review", "pull-request": "42" });
    expect(file.config["cdc-pipeline:existingPrivateSubnetIds"]).toEqual([
      "subnet-0123456789abcdef0",
      "subnet-0123456789abcdef1",
    ]);
    expect(file.config["cdc-pipeline:ephemeral"]).toBe("true");
  });

  it("is idempotent, passes a secrets provider to a new stack, takes --var over the environment", async () => {
    const env = { ...REVIEW_ENV, PULUMI_SECRETS_PROVIDER: "awskms://alias/pulumi-review" };
    expect((await run(["init", "pr-7"], env)).code).toBe(0);
    const first = readFileSync(join(project, "Pulumi.pr-7.yaml"), "utf8");
    expect((await run(["init", "pr-7"], env)).code).toBe(0);
    expect(readFileSync(join(project, "Pulumi.pr-7.yaml"), "utf8")).toBe(first);
    expect((await run(["init", "pr-7", "--force", "--var", "AWS_REGION=us-east-1"], env)).code).toBe(0);
    const file = load(readFileSync(join(project, "Pulumi.pr-7.yaml"), "utf8")) as {
      encryptionsalt: string;
      config: Record<string, unknown>;
    };
    expect(file.config["aws:region"]).toBe("us-east-1");
    expect(file.encryptionsalt).toBe("v1:c2FsdA==:v1:aXY=:Y3Q=");
    expect(argsOf()).toEqual(
      Array.from({ length: 3 }, () => [
        "stack",
        "select",
        "--create",
        "pr-7",
        "--secrets-provider",
        "awskms://alias/pulumi-review",
      ]),
    );
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
    expect(argsOf()).toHaveLength(1);
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
      1,
      "cdc-stack: --template is required for staging (only review stacks pr-<n> default to Pulumi.pr.yaml)\n",
    ],
    [
      ["init", "staging", "--template", "Pulumi.staging.yaml"],
      1,
      `cdc-stack: template Pulumi.staging.yaml not found in PROJECT\n`,
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
    expect(calls()).toEqual([]);
  });

  it("stops when pulumi cannot select the stack, writing no config, and completes on the next try", async () => {
    const result = await run(["init", "pr-5"], { ...REVIEW_ENV, FAKE_PULUMI_EXIT_STACK_SELECT: "255" });
    expect(result.code).toBe(255);
    expect(readFileSync(join(project, "Pulumi.pr-5.yaml"), "utf8")).toBe(
      "encryptionsalt: v1:c2FsdA==:v1:aXY=:Y3Q=\n",
    );
    // A file with only the salt is not "other settings": the next try fills in its config.
    expect((await run(["init", "pr-5"], REVIEW_ENV)).code).toBe(0);
    const file = load(readFileSync(join(project, "Pulumi.pr-5.yaml"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(file)).toEqual(["encryptionsalt", "config"]);
  });
});

describe("destroy", () => {
  it("destroys an ephemeral stack and then removes it", async () => {
    expect((await run(["init", "pr-3"], REVIEW_ENV)).code).toBe(0);
    expect((await run(["destroy", "pr-3", "--remove", "--yes"])).code).toBe(0);
    expect(argsOf().slice(1)).toEqual([
      ["destroy", "--stack", "pr-3", "--yes"],
      ["stack", "rm", "pr-3", "--yes"],
    ]);
  });

  it("does not remove a stack whose destroy failed", async () => {
    expect((await run(["init", "pr-3"], REVIEW_ENV)).code).toBe(0);
    expect((await run(["destroy", "pr-3", "--remove"], { FAKE_PULUMI_EXIT_DESTROY: "255" })).code).toBe(255);
    expect(argsOf().slice(1)).toEqual([["destroy", "--stack", "pr-3"]]);
  });

  it("refuses a long-lived stack without running pulumi", async () => {
    for (const stack of ["dev", "prod"]) {
      const result = await run(["destroy", stack, "--yes"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `cdc-stack: ${stack} is long-lived (Pulumi.${stack}.yaml does not set cdc-pipeline:ephemeral: "true"), so destroy is refused: ` +
          `set it, run \`npm run up -- ${stack}\` (this drops protection and the final snapshot), then destroy\n`,
      );
    }
    expect(calls()).toEqual([]);
  });

  it("refuses a stack without a stack file, pointing at stack:init", async () => {
    const result = await run(["destroy", "pr-8"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "cdc-stack: Pulumi.pr-8.yaml not found: destroy reads the stack's config to check it is ephemeral (run `npm run stack:init -- pr-8` first)\n",
    );
  });
});

describe("sweep", () => {
  it("prints the pull requests whose stacks go and logs each decision as JSON", async () => {
    const github = await startGitHubEmulator("acme/cdc-pipeline", "ghs_x", [
      { number: 3, state: "open", labels: ["review-stack"] },
      { number: 4, state: "open", labels: [] },
      { number: 5, state: "closed", labels: ["review-stack"] },
    ]);
    try {
      const stacks = join(project, "stacks.json");
      writeFileSync(
        stacks,
        JSON.stringify(["dev", "prod", "pr-3", "pr-4", "pr-5", "pr-6"].map((name) => ({ name }))),
      );
      const result = await run(["sweep", "--stacks", stacks, "--repository", "acme/cdc-pipeline"], {
        GITHUB_TOKEN: "ghs_x",
        GITHUB_API_URL: github.url,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("[4,5,6]\n");
      const lines = result.stderr
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map(({ event, stack, action, msg }) => ({ event, stack, action, msg }))).toEqual([
        {
          event: "sweep-decision",
          stack: "pr-3",
          action: "keep",
          msg: "pr-3: keep (#3 is open with label review-stack)",
        },
        {
          event: "sweep-decision",
          stack: "pr-4",
          action: "destroy",
          msg: "pr-4: destroy (#4 no longer has label review-stack)",
        },
        { event: "sweep-decision", stack: "pr-5", action: "destroy", msg: "pr-5: destroy (#5 is not open)" },
        { event: "sweep-decision", stack: "pr-6", action: "destroy", msg: "pr-6: destroy (#6 is not open)" },
        { event: "sweep-summary", stack: undefined, action: undefined, msg: "sweep planned" },
      ]);
      expect(lines[4]).toMatchObject({ stacks: 6, openPullRequests: 2, destroy: 3 });
      expect(calls()).toEqual([]);
    } finally {
      await github.close();
    }
  });

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
