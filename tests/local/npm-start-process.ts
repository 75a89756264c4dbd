/** `npm start` as a spawned process, and reading its summary: shared by the npm start tests. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

export const REPO_ROOT = resolve(__dirname, "../..");

export interface NpmStartResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm start -- <args>` with DATABASE_URL set to `databaseUrl` ("" for the embedded server). */
export function runNpmStart(databaseUrl: string, args: string[]): Promise<NpmStartResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("npm", ["start", "--silent", "--", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** The summary table's row for `table`, as numbers. */
export function summaryRow(stdout: string, table: string): number[] {
  const line = stdout.split("\n").find((l) => l.startsWith(`${table} `));
  if (!line) throw new Error(`no summary row for ${table} in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1).map(Number);
}
