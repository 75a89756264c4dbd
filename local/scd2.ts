/**
 * Runs the SCD2 job as a subprocess, exactly as a user would:
 * `tsx analytics/src/cli.ts run --source <bucket topics dir> --output <dir>`, and reads the per-table
 * summary from its JSON log line (`"event":"run-done"`; the job logs JSON when not on a terminal).
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { TableSummary } from "../analytics/src/job";

export const REPO_ROOT = resolve(__dirname, "..");
const SCD2_CLI = resolve(REPO_ROOT, "analytics/src/cli.ts");

export async function runScd2Job(options: {
  source: string;
  output: string;
  topicPrefix: string;
  tables: readonly string[];
  signal?: AbortSignal;
}): Promise<TableSummary[]> {
  const args = [
    require.resolve("tsx/cli"),
    SCD2_CLI,
    "run",
    "--source",
    options.source,
    "--output",
    options.output,
    "--topic-prefix",
    options.topicPrefix,
    "--tables",
    options.tables.join(","),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolveExit, reject) => {
    child.once("error", reject);
    child.once("close", resolveExit);
  });
  if (code !== 0) {
    throw new Error(`the SCD2 job exited with code ${code}:\n${output.split("\n").slice(-20).join("\n")}`);
  }
  for (const line of output.split("\n").reverse()) {
    if (!line.includes('"run-done"')) continue;
    const parsed = JSON.parse(line) as { event?: string; tables?: TableSummary[] };
    if (parsed.event === "run-done" && Array.isArray(parsed.tables)) return parsed.tables;
  }
  throw new Error(`the SCD2 job succeeded but logged no run-done summary:\n${output.slice(-2000)}`);
}
