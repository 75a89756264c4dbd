/**
 * `npm start` stopped by SIGTERM at each stage of its run: it exits 143 within seconds, says it was
 * stopped (not that it failed), and leaves its local directory released (no lock, no server running
 * on the data directory) so the next run can start.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../local/local-dir";
import { REPO_ROOT } from "./npm-start-process";

/** From the signal to the exit: stopping the runtime, the server and the connections. */
const STOP_WITHIN_MS = 20_000;

interface Stopped {
  code: number | null;
  signalled: boolean;
  stopMs: number;
  lastStderrLine: string;
}

/** Runs npm start (as node itself, so the signal reaches it), sending SIGTERM once `stage` is logged. */
function stopAt(stage: string, duration: number, localDir: string): Promise<Stopped> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "local/start.ts",
      "--duration",
      String(duration),
      "--rate",
      "20",
      "--local-dir",
      localDir,
    ],
    { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: "" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  let signalledAt = 0;
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (signalledAt === 0 && stderr.includes(`"msg":"${stage}`)) {
        signalledAt = Date.now();
        child.kill("SIGTERM");
      }
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (signalledAt === 0)
        reject(new Error(`npm start never reached "${stage}" (exit ${code}):\n${stderr}`));
      const lines = stderr.trim().split("\n");
      resolve({
        code,
        signalled: true,
        stopMs: Date.now() - signalledAt,
        lastStderrLine: lines[lines.length - 1] ?? "",
      });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), "cdc-npm-start-signals-"));
// As root the server runs as "postgres", which must be able to enter the data directory's parents.
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm start stopped by SIGTERM", () => {
  // The workload's duration: long where the signal comes before it ends, short to reach the later steps.
  it.each([
    ["starting embedded PostgreSQL", 30],
    ["applying the source setup", 30],
    ["starting the local connector runtime", 30],
    ["running the workload", 30],
    ["waiting for the change files to land", 1],
    ["running the SCD2 job", 1],
  ])("while %s: exits 143 within seconds and releases its directory", async (stage, duration) => {
    const localDir = join(scratch, stage.replace(/\W+/g, "-"));
    const stopped = await stopAt(stage, duration, localDir);
    expect({ code: stopped.code, last: stopped.lastStderrLine }).toEqual({
      code: 143,
      last: "npm start: stopped by SIGTERM",
    });
    expect(stopped.stopMs).toBeLessThan(STOP_WITHIN_MS);
    expect(existsSync(join(localDir, LOCK_FILE))).toBe(false);
    expect(existsSync(join(localDir, "pg", "postmaster.pid"))).toBe(false);
  });
});
