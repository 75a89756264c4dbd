/** Runs the cdc-stack CLI (delivery/cli.ts) as a real process, as `npm run <command>` does. */
import { execFile } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const CLI = join(ROOT, "delivery", "cli.ts");

/** The variables Pulumi.pr.yaml needs besides the built-in ones. */
export const REVIEW_ENV = {
  AWS_REGION: "eu-west-1",
  REVIEW_VPC_ID: "vpc-0123456789abcdef0",
  REVIEW_PRIVATE_SUBNET_IDS: '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]',
  DEPLOYER_CIDRS: '["10.200.0.0/24"]',
};

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `cdc-stack --cwd <project> <args>` with exactly `env` (plus HOME): nothing else leaks in. */
export function runCli(args: string[], project: string, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX, CLI, "--cwd", project, ...args],
      { env: { HOME: process.env.HOME ?? "/tmp", ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}
