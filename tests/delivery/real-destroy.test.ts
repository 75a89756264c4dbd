// cdc-stack destroy against the real Pulumi CLI on a file:// backend (real-pulumi.ts): a long-lived stack is
// refused, and so is any argument or variable that would make pulumi act on another stack than the one checked;
// an ephemeral stack is destroyed and removed, and kept when its destroy fails.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectSucceeds, SLOW, useRealProject } from "./real-project";
import { REVIEW_ENV } from "./run-cli";

describe("destroy", () => {
  const { project, cli } = useRealProject();

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
