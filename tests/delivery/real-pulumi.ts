/**
 * The real Pulumi CLI for the delivery commands, offline, with a project it can run.
 *
 * The CLI runs a program only through a language host plugin (`pulumi-language-<runtime>`); none is built
 * into it, and the Node.js one (`github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3`) is not
 * served by the Go module proxy. Pulumi's YAML language host is (`github.com/pulumi/pulumi-yaml`, built beside
 * the CLI by engines/provision.ts), so the test project is a YAML program: no provider, no cloud. Its
 * policy pack is Node.js, which the CLI starts without a Node.js language host through its fallback,
 * `pulumi-analyzer-policy-nodejs`: the release's launcher script, running @pulumi/pulumi's run-policy-pack.
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Progress } from "../../engines/cache";
import { startPulumiEngine } from "../../engines/pulumi-engine";
import { parseStackList, type StackSummary } from "../../delivery/sweep";

const ROOT = join(__dirname, "..", "..");
/** The policy-pack launcher the CLI looks for when no Node.js language host is installed. */
function writePolicyPackLauncher(binDir: string): void {
  const entry = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
  const script = join(binDir, "pulumi-analyzer-policy-nodejs");
  writeFileSync(script, `#!/bin/sh\nexec "${process.execPath}" "${entry}" "$@"\n`);
  chmodSync(script, 0o755);
}

export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RealPulumiProject {
  /** The project folder: tests/delivery/fixtures/real-project plus the repository's stack files. */
  dir: string;
  /** What a person's shell would hold: the CLI and plugins on PATH, the file:// backend, the passphrase. */
  env: Record<string, string>;
  pulumi(args: string[], env?: Record<string, string>): Promise<PulumiRun>;
  /** `pulumi stack ls --json`, as the CLI prints it and as parsed by the sweep. */
  stackList(): Promise<{ text: string; stacks: StackSummary[] }>;
  /** `pulumi stack output --json` of a stack. */
  outputs(stack: string): Promise<Record<string, unknown>>;
}

/** A project with its own state under `dir` (created by the caller, removed by it). */
export async function startRealPulumiProject(dir: string, progress: Progress): Promise<RealPulumiProject> {
  // The CLI's folder also holds the YAML language host (engines/provision.ts).
  const engine = await startPulumiEngine(join(dir, "engine"), progress);
  const launcherDir = join(dir, "policy-bin");
  mkdirSync(launcherDir);
  writePolicyPackLauncher(launcherDir);
  const project = join(dir, "project");
  cpSync(join(__dirname, "fixtures", "real-project"), project, { recursive: true });
  for (const file of ["Pulumi.pr.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]) {
    copyFileSync(join(ROOT, file), join(project, file));
  }
  // The policy pack resolves @pulumi/policy and @pulumi/pulumi from the project, as in the repository.
  symlinkSync(join(ROOT, "node_modules"), join(project, "node_modules"));
  // Confirmations stay on, as in a person's shell: pulumi needs --yes to change anything here.
  const { PULUMI_SKIP_CONFIRMATIONS: _confirmations, ...engineEnv } = engine.env;
  const env = { ...engineEnv, PATH: [launcherDir, engineEnv.PATH].join(delimiter) };
  const pulumi = (args: string[], extraEnv: Record<string, string> = {}): Promise<PulumiRun> =>
    new Promise((resolve) => {
      execFile(
        join(engine.binDir, "pulumi"),
        args,
        { cwd: project, env: { HOME: process.env.HOME ?? "/tmp", ...env, ...extraEnv } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });
  const succeed = async (args: string[]): Promise<string> => {
    const run = await pulumi(args);
    if (run.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  };
  return {
    dir: project,
    env,
    pulumi,
    stackList: async () => {
      const text = await succeed(["stack", "ls", "--json"]);
      return { text, stacks: parseStackList(text, "pulumi stack ls --json") };
    },
    outputs: async (stack) =>
      JSON.parse(await succeed(["stack", "output", "--json", "--stack", stack])) as Record<string, unknown>,
  };
}
