// `cdc-resnapshot` as a user runs it (`npm run resnapshot`: tsx on connectors/signals/cli.ts), in a child process.
import { spawn } from "node:child_process";
import { join } from "node:path";

const REPO = join(__dirname, "../../..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runResnapshot(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ["--import", "tsx", "connectors/signals/cli.ts", ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}
