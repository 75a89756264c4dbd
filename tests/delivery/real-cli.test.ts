// The cdc-stack CLI against the real Pulumi CLI on a file:// backend (real-pulumi.ts: a YAML program with a
// policy pack, the repository's stack files), and the GitHub emulator for the sweep. Each describe has its own
// project and state in a temporary folder.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgress } from "../../engines/progress";
import { startGitHubEmulator } from "./github-emulator";
import { startRealPulumiProject, type RealPulumiProject } from "./real-pulumi";
import { REVIEW_ENV, runCli, type CliResult } from "./run-cli";

// Each pulumi run starts the CLI, the YAML language host and node for the policy pack: seconds on a busy box.
const SLOW = 600_000;

/** A project of its own for the describe it is called in; `cli` runs cdc-stack in it. */
function useProject(): {
  project: () => RealPulumiProject;
  cli: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
} {
  let dir: string;
  let project: RealPulumiProject;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cdc-stack-real-"));
    project = await startRealPulumiProject(dir, createProgress("delivery-test"));
  }, SLOW);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    project: () => project,
    cli: (args, env = {}) => runCli(args, project.dir, { ...project.env, ...env }),
  };
}

async function expectSucceeds(run: Promise<CliResult>): Promise<CliResult> {
  const result = await run;
  expect(result.stderr.split("\n").filter((line) => line.startsWith("error"))).toEqual([]);
  expect(result.code).toBe(0);
  return result;
}

function stackFile(project: RealPulumiProject, stack: string): Record<string, unknown> {
  return load(readFileSync(join(project.dir, `Pulumi.${stack}.yaml`), "utf8")) as Record<string, unknown>;
}

describe("stack:init", () => {
  const { project, cli } = useProject();

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

describe("preview and up", () => {
  const { project, cli } = useProject();
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

describe("destroy", () => {
  const { project, cli } = useProject();

  /** What prod and pr-9 hold: outputs, resource count, number of updates. */
  async function state(): Promise<unknown> {
    const { stacks } = await project().stackList();
    const of = async (stack: string): Promise<unknown> => {
      const history = await project().pulumi(["stack", "history", "--json", "--stack", stack]);
      return {
        resourceCount: stacks.find((s) => s.name === stack)?.resourceCount,
        outputs: await project().outputs(stack),
        updates: (JSON.parse(history.stdout) as unknown[]).length,
      };
    };
    return { stacks: stacks.map((s) => s.name).sort(), prod: await of("prod"), "pr-9": await of("pr-9") };
  }
  const deployed = {
    stacks: ["pr-9", "prod"],
    prod: { resourceCount: 1, outputs: { stack: "prod", ephemeral: false }, updates: 1 },
    "pr-9": { resourceCount: 1, outputs: { stack: "pr-9", ephemeral: true }, updates: 1 },
  };

  beforeAll(async () => {
    expect((await project().pulumi(["stack", "init", "prod"])).code).toBe(0);
    await expectSucceeds(cli(["up", "prod", "--yes"]));
    await expectSucceeds(cli(["init", "pr-9"], REVIEW_ENV));
    await expectSucceeds(cli(["up", "pr-9", "--yes"]));
    expect(await state()).toEqual(deployed);
  }, SLOW);

  it(
    "refuses a long-lived stack and leaves it as it was",
    async () => {
      expect(await cli(["destroy", "prod", "--yes"])).toEqual({
        code: 1,
        stdout: "",
        stderr:
          'cdc-stack: prod is long-lived (Pulumi.prod.yaml does not set cdc-pipeline:ephemeral: "true"), so destroy is refused: ' +
          "set it, run `npm run up -- prod` (this drops protection and the final snapshot), then destroy\n",
      });
      expect(await state()).toEqual(deployed);
    },
    SLOW,
  );

  const stack = "selects the stack, which this command takes as its argument";
  const cwd = "runs pulumi in another project directory (cdc-stack's own --cwd goes before the command)";
  const configFile = "reads another config file than the stack's Pulumi.<stack>.yaml";
  it.each([
    [["destroy", "pr-9", "--yes", "--stack", "prod"], "--stack: refused, pulumi's --stack " + stack],
    [["destroy", "pr-9", "--yes", "-s", "prod"], "-s: refused, pulumi's --stack " + stack],
    [["destroy", "pr-9", "--yes", "--stack=prod"], "--stack=prod: refused, pulumi's --stack " + stack],
    [["destroy", "pr-9", "--yes", "-sprod"], "-sprod: refused, pulumi's --stack " + stack],
    [["destroy", "pr-9", "-ysprod"], "-ysprod: refused, pulumi's --stack " + stack],
    // After `--` cdc-stack's own --cwd is not recognised: the arguments go to pulumi.
    [["destroy", "pr-9", "--yes", "--", "--cwd", "/srv/other"], "--cwd: refused, pulumi's --cwd " + cwd],
    [["destroy", "pr-9", "--yes", "--", "-C", "/srv/other"], "-C: refused, pulumi's --cwd " + cwd],
    [
      ["destroy", "pr-9", "--yes", "--config-file", "Pulumi.prod.yaml"],
      "--config-file: refused, pulumi's --config-file " + configFile,
    ],
    [["up", "pr-9", "--yes", "--stack", "prod"], "--stack: refused, pulumi's --stack " + stack],
    [["preview", "pr-9", "-sprod"], "-sprod: refused, pulumi's --stack " + stack],
  ])(
    "refuses %j before running pulumi: prod and pr-9 stay as they were",
    async (args, message) => {
      expect(await cli(args)).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: ${message}; nothing was run\n`,
      });
      expect(await state()).toEqual(deployed);
    },
    SLOW,
  );

  it.each([
    ["PULUMI_OPTION_STACK", "prod", `--stack, which ${stack}`],
    ["PULUMI_OPTION_CWD", "/srv/other", `--cwd, which ${cwd}`],
    ["PULUMI_OPTION_CONFIG_FILE", "Pulumi.prod.yaml", `--config-file, which ${configFile}`],
  ])(
    "refuses to run pulumi with %s set: prod and pr-9 stay as they were",
    async (variable, value, effect) => {
      expect(await cli(["destroy", "pr-9", "--yes"], { [variable]: value })).toEqual({
        code: 2,
        stdout: "",
        stderr: `error: ${variable} is set: pulumi reads it as ${effect}; unset it (nothing was run)\n`,
      });
      expect(await state()).toEqual(deployed);
    },
    SLOW,
  );

  it(
    "destroys an ephemeral stack and removes it: no state and no stack file left",
    async () => {
      await expectSucceeds(cli(["init", "pr-3"], REVIEW_ENV));
      await expectSucceeds(cli(["up", "pr-3", "--yes"]));
      const { stdout } = await expectSucceeds(cli(["destroy", "pr-3", "--remove", "--yes"]));
      expect(stdout).toContain("- 1 deleted");
      expect(stdout.trimEnd().split("\n").at(-1)).toBe("Stack 'pr-3' has been removed!");
      expect((await project().stackList()).stacks.map((s) => s.name).sort()).toEqual(["pr-9", "prod"]);
      expect(existsSync(join(project().dir, "Pulumi.pr-3.yaml"))).toBe(false);
      expect(await state()).toEqual(deployed);
    },
    SLOW,
  );

  it(
    "does not remove a stack whose destroy failed",
    async () => {
      await expectSucceeds(cli(["init", "pr-4"], REVIEW_ENV));
      await expectSucceeds(cli(["up", "pr-4", "--yes"]));
      // Without --yes a non-interactive destroy stops before changing anything.
      expect(await cli(["destroy", "pr-4", "--remove"])).toEqual({
        code: 2,
        stdout: "",
        stderr:
          "error: --yes or --skip-preview or --preview-only must be passed in to proceed when running in non-interactive mode\n",
      });
      // pulumi stack rm would remove this stack (only its root resource is left): it was not run.
      const { stacks } = await project().stackList();
      expect(stacks.find((s) => s.name === "pr-4")?.resourceCount).toBe(1);
      expect(await project().outputs("pr-4")).toEqual({ stack: "pr-4", ephemeral: true });
    },
    SLOW,
  );
});

describe("sweep", () => {
  const { project, cli } = useProject();

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
        const decisions = result.stderr
          .trimEnd()
          .split("\n")
          .map((line) => (JSON.parse(line) as { msg: string }).msg);
        expect(decisions).toEqual([
          "pr-3: keep (#3 is open with label review-stack)",
          "pr-4: destroy (#4 no longer has label review-stack)",
          "pr-5: destroy (#5 is not open)",
          "sweep planned",
        ]);
      } finally {
        await github.close();
      }
    },
    SLOW,
  );
});
