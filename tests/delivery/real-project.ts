/** Vitest helpers for the test files that run cdc-stack against the real Pulumi CLI (real-pulumi.ts). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { createProgress } from "../../engines/progress";
import { startRealPulumiProject, type RealPulumiProject } from "./real-pulumi";
import { runCli, type CliResult } from "./run-cli";

/** Each pulumi run starts the CLI, the YAML language host and node for the policy pack: seconds on a busy box. */
export const SLOW = 600_000;
/** The first run on a machine also builds the YAML language host with Go (minutes, longer on a busy box). */
const FIRST_START = 30 * 60_000;

/** A project with its own state for the describe this is called in; `cli` runs cdc-stack in it. */
export function useRealProject(): {
  project: () => RealPulumiProject;
  cli: (args: string[], env?: Record<string, string>) => Promise<CliResult>;
} {
  let dir: string;
  let project: RealPulumiProject;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cdc-stack-real-"));
    project = await startRealPulumiProject(dir, createProgress("delivery-test"));
  }, FIRST_START);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    project: () => project,
    cli: (args, env = {}) => runCli(args, project.dir, { ...project.env, ...env }),
  };
}

/** Exit 0 and no error line (pulumi's warnings may be there). */
export async function expectSucceeds(run: Promise<CliResult>): Promise<CliResult> {
  const result = await run;
  expect(result.stderr.split("\n").filter((line) => line.startsWith("error"))).toEqual([]);
  expect(result.code).toBe(0);
  return result;
}
