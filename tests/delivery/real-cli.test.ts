// cdc-stack's init, preview, up and sweep against the real Pulumi CLI on a file:// backend (real-pulumi.ts: a
// YAML program with a policy pack, the repository's stack files); the GitHub emulator stands in for GitHub.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3Server, type S3TestServer } from "../analytics/storage/s3-server";
import { startGitHubEmulator } from "./github-emulator";
import { stackFileConfig } from "../../delivery/stack-file";
import type { RealPulumiProject } from "./real-pulumi";
import { expectSucceeds, SLOW, useRealProject } from "./real-project";
import { REVIEW_ENV, runCli } from "./run-cli";

function stackFile(project: RealPulumiProject, stack: string): Record<string, unknown> {
  return load(readFileSync(join(project.dir, `Pulumi.${stack}.yaml`), "utf8")) as Record<string, unknown>;
}

describe("stack:init", () => {
  const { project, cli } = useRealProject();

  it(
    "creates the stack, renders its file from the template and keeps the salt pulumi wrote",
    async () => {
      expect(await cli(["init", "pr-42"], REVIEW_ENV)).toEqual({
        code: 0,
        stdout: "",
        stderr: "Created stack 'pr-42'\n",
      });
      const text = readFileSync(join(project().dir, "Pulumi.pr-42.yaml"), "utf8");
      expect(text.split("\n")[0]).toBe(
        "# Made by `npm run stack:init` from Pulumi.pr.yaml: edit the template, not this file.",
      );
      const file = load(text) as { encryptionsalt: string; config: Record<string, unknown> };
      expect(file.encryptionsalt).toMatch(/^v1:[A-Za-z0-9+/=]+:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      expect(file.config["cdc-pipeline:tags"]).toEqual({ env: "review", "pull-request": "42" });
      // pulumi reads the rendered file as the stack's config.
      const ephemeral = await project().pulumi([
        "config",
        "get",
        "cdc-pipeline:ephemeral",
        "--stack",
        "pr-42",
      ]);
      expect(ephemeral.stdout).toBe("true\n");
      expect((await project().stackList()).stacks.map((s) => s.name)).toEqual(["pr-42"]);

      expect(await cli(["init", "pr-42"], REVIEW_ENV)).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(readFileSync(join(project().dir, "Pulumi.pr-42.yaml"), "utf8")).toBe(text);

      await expectSucceeds(cli(["init", "pr-42", "--force", "--var", "AWS_REGION=us-east-1"], REVIEW_ENV));
      const forced = stackFile(project(), "pr-42") as typeof file;
      expect(forced.config["aws:region"]).toBe("us-east-1");
      expect(forced.encryptionsalt).toBe(file.encryptionsalt);
      const region = await project().pulumi(["config", "get", "aws:region", "--stack", "pr-42"]);
      expect(region.stdout).toBe("us-east-1\n");
    },
    SLOW,
  );

  it(
    "stops with pulumi's exit code when it cannot create the stack, writing nothing, and completes later",
    async () => {
      const { PULUMI_CONFIG_PASSPHRASE: _passphrase, ...withoutPassphrase } = project().env;
      const failed = await runCli(["init", "pr-5"], project().dir, { ...withoutPassphrase, ...REVIEW_ENV });
      expect(failed).toEqual({
        code: 1,
        stdout: "",
        stderr:
          "error: could not create secrets manager for new stack: passphrase must be set with " +
          "PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n",
      });
      expect(existsSync(join(project().dir, "Pulumi.pr-5.yaml"))).toBe(false);
      expect((await project().stackList()).stacks.map((s) => s.name)).not.toContain("pr-5");

      await expectSucceeds(cli(["init", "pr-5"], REVIEW_ENV));
      expect(Object.keys(stackFile(project(), "pr-5"))).toEqual(["encryptionsalt", "config"]);
    },
    SLOW,
  );
});

describe("stack:init of the long-lived stacks", () => {
  const { project, cli } = useRealProject();

  it(
    "creates dev and prod from their own committed files, adding only the salt the passphrase provider wrote",
    async () => {
      for (const stack of ["dev", "prod"]) {
        const path = join(project().dir, `Pulumi.${stack}.yaml`);
        const committed = readFileSync(path, "utf8");
        expect(await cli(["init", stack])).toEqual({
          code: 0,
          stdout: "",
          stderr: `Created stack '${stack}'\n`,
        });
        const text = readFileSync(path, "utf8");
        const salt = /^encryptionsalt: (v1:\S+)\n/m.exec(text)![1]!;
        expect(text.replace(`encryptionsalt: ${salt}\n`, "")).toBe(committed);
        // pulumi reads the file as the stack's config, and its secrets with the salt kept.
        const config = await project().pulumi(["config", "--json", "--stack", stack]);
        const values = JSON.parse(config.stdout) as Record<string, { value: string }>;
        for (const [key, value] of Object.entries(stackFileConfig(committed, stack)!)) {
          const seen = values[key]?.value;
          expect([key, typeof value === "string" ? seen : JSON.parse(seen ?? "null")]).toEqual([key, value]);
        }
        const set = await project().pulumi([
          "config",
          "set",
          "--secret",
          "probe:value",
          "s3cr3t",
          "--stack",
          stack,
        ]);
        expect(set.code).toBe(0);
        const get = await project().pulumi(["config", "get", "probe:value", "--stack", stack]);
        expect(get.stdout).toBe("s3cr3t\n");
        await project().pulumi(["config", "rm", "probe:value", "--stack", stack]);
        // A second run changes nothing.
        const before = readFileSync(path, "utf8");
        expect(await cli(["init", stack])).toEqual({ code: 0, stdout: "", stderr: "" });
        expect(readFileSync(path, "utf8")).toBe(before);
      }
      expect((await project().stackList()).stacks.map((s) => s.name).sort()).toEqual(["dev", "prod"]);
    },
    SLOW,
  );
});

describe("stack:init on an S3 backend (s3rver)", () => {
  const { project, cli } = useRealProject();
  let s3: S3TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startS3Server(["acme-pulumi-state"]);
    env = {
      ...s3.env,
      AWS_EC2_METADATA_DISABLED: "true",
      PULUMI_BACKEND_URL: `s3://acme-pulumi-state?endpoint=${s3.endpoint}&use_path_style=true&region=us-east-1`,
    };
  }, SLOW);
  afterAll(() => s3?.stop());

  it.each([[[]], [["--secrets-provider", "passphrase"]]])(
    "refuses to create dev with %j: a bucket backend needs a KMS key (exit 2, nothing created)",
    async (extra) => {
      const committed = readFileSync(join(project().dir, "Pulumi.dev.yaml"), "utf8");
      const result = await cli(["init", "dev", ...extra], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `the backend ${env.PULUMI_BACKEND_URL} is a bucket: create dev with a KMS key, --secrets-provider awskms://alias/<alias>?region=<region> (or PULUMI_SECRETS_PROVIDER); the passphrase provider is for a local file:// backend\n`,
      );
      expect(readFileSync(join(project().dir, "Pulumi.dev.yaml"), "utf8")).toBe(committed);
      const list = await project().pulumi(["stack", "ls", "--json"], env);
      expect([list.code, JSON.parse(list.stdout)]).toEqual([0, []]);
    },
    SLOW,
  );
});

describe("preview and up", () => {
  const { project, cli } = useRealProject();
  beforeAll(async () => {
    // dev exists, as in the backend of the repository: its stack file is committed.
    expect((await project().pulumi(["stack", "init", "dev"])).code).toBe(0);
  }, SLOW);

  it(
    "preview runs the program and the policy pack on the named stack and changes nothing",
    async () => {
      const { stdout } = await expectSucceeds(cli(["preview", "dev"]));
      expect(stdout).toContain("+ pulumi:pulumi:Stack: (create)");
      expect(stdout).toContain("checked cdc-pipeline-dev\n");
      expect(stdout).toContain("delivery-test|local|infra/policy  0.0.1");
      expect(await project().outputs("dev")).toEqual({});
    },
    SLOW,
  );

  it(
    "up deploys the named stack with the policy pack and passes further arguments on",
    async () => {
      const { stdout } = await expectSucceeds(cli(["up", "dev", "--yes", "--message", "first deploy"]));
      expect(stdout).toContain("checked cdc-pipeline-dev\n");
      expect(await project().outputs("dev")).toEqual({ stack: "dev", ephemeral: false });
      const history = await project().pulumi(["stack", "history", "--json", "--stack", "dev"]);
      expect(
        (JSON.parse(history.stdout) as { message: string; result: string }[]).map((u) => u.message),
      ).toEqual(["first deploy"]);
    },
    SLOW,
  );

  it(
    "exits with pulumi's exit code",
    async () => {
      expect(await cli(["up", "staging", "--yes"])).toEqual({
        code: 6,
        stdout: "",
        stderr: "error: no stack named 'staging' found\n",
      });
    },
    SLOW,
  );
});

describe("sweep", () => {
  const { project, cli } = useRealProject();

  it(
    "reads pulumi stack ls --json and prints the pull requests whose stacks go",
    async () => {
      expect((await project().pulumi(["stack", "init", "dev"])).code).toBe(0);
      for (const stack of ["pr-3", "pr-4", "pr-5"]) await expectSucceeds(cli(["init", stack], REVIEW_ENV));
      await expectSucceeds(cli(["up", "pr-5", "--yes"]));
      const list = await project().stackList();
      const counts = list.stacks.map(({ name, resourceCount }) => ({ name, resourceCount }));
      expect(counts.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: "dev", resourceCount: 0 },
        { name: "pr-3", resourceCount: 0 },
        { name: "pr-4", resourceCount: 0 },
        { name: "pr-5", resourceCount: 1 },
      ]);
      const stacksFile = join(project().dir, "stacks.json");
      writeFileSync(stacksFile, list.text);
      const github = await startGitHubEmulator("acme/cdc-pipeline", "ghs_x", [
        { number: 3, state: "open", labels: ["review-stack"] },
        { number: 4, state: "open", labels: [] },
        { number: 5, state: "closed", labels: ["review-stack"] },
      ]);
      try {
        const result = await cli(["sweep", "--stacks", stacksFile, "--repository", "acme/cdc-pipeline"], {
          GITHUB_TOKEN: "ghs_x",
          GITHUB_API_URL: github.url,
        });
        expect(result.code).toBe(0);
        expect(result.stdout).toBe("[4,5]\n");
        const lines = result.stderr
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(lines.map((line) => line.msg)).toEqual([
          "pr-3: keep (#3 is open with label review-stack)",
          "pr-4: destroy (#4 no longer has label review-stack)",
          "pr-5: destroy (#5 is not open)",
          "sweep planned",
        ]);
        expect(lines[3]).toMatchObject({
          event: "sweep-summary",
          stacks: 4,
          openPullRequests: 2,
          destroy: 2,
        });
      } finally {
        await github.close();
      }
    },
    SLOW,
  );
});
