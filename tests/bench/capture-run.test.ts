// bench:capture end to end, small: its own embedded PostgreSQL and runtimes, in a scratch working dir.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { pgRecvlogicalMissing } from "../../bench/walsender-ceiling";

const repo = resolve(__dirname, "../..");

function runBench(
  cwd: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // tsx by its path: the bench runs in `cwd`, where it keeps its data (.bench/capture), and --import
  // resolves a bare name from there.
  const tsx = require.resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, join(repo, "bench/capture.ts"), ...args], { cwd });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.once("exit", (code) => done({ code, stdout, stderr })));
}

interface Result {
  bulk: {
    changes: number;
    transactions: number;
    flushSize: number;
    files: number;
    changesPerSecond: number;
    cpuMicrosPerChange: number;
    mainThreadCpuMicrosPerChange: number | null;
  };
  ceiling: { rawConsumer: { changes: number } };
  latencyMs: { samples: number };
  targets: { figure: string; target: string; met: boolean }[];
}

describe("npm run bench:capture", () => {
  it("ends each phase on the runtime's reports and prints its figures with their targets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-capture-"));
    // As root the embedded PostgreSQL runs as another user, who must be able to enter the data dir's parents.
    chmodSync(dir, 0o711);
    try {
      const { code, stdout, stderr } = await runBench(dir, [
        "--no-debezium",
        "--rows",
        "200",
        "--transactions",
        "2",
        "--flush-size",
        "100",
        "--latency-samples",
        "2",
      ]);
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout) as Result;
      expect(result.bulk).toMatchObject({ changes: 400, transactions: 2, flushSize: 100, files: 4 });
      expect(result.bulk.changesPerSecond).toBeGreaterThan(0);
      // This machine reports a thread's CPU time: the main thread's is part of the process's.
      expect(result.bulk.mainThreadCpuMicrosPerChange).toBeGreaterThan(0);
      expect(result.bulk.mainThreadCpuMicrosPerChange).toBeLessThanOrEqual(result.bulk.cpuMicrosPerChange);
      expect(result.ceiling.rawConsumer.changes).toBe(400);
      expect(result.latencyMs.samples).toBe(2);
      // A run of another shape than the targets' (1,000,000 updates in 10 transactions, flush.size 1000)
      // reports its rate and share, and meets neither target.
      const shape = "not the targets' workload (400 updates in 2 transactions, flush.size 100)";
      expect(result.targets.map((t) => t.target)).toEqual([">= 150000", ">= 0.60", "< 10"]);
      expect(result.targets[0]).toEqual({
        figure: `capture changes/s: ${shape}`,
        target: ">= 150000",
        met: false,
      });
      // Without pg_recvlogical on this machine the share's figure names what is missing instead.
      const missing = pgRecvlogicalMissing();
      expect(result.targets[1]).toEqual({
        figure: missing
          ? `capture share of the walsender ceiling: not measured, ${missing}`
          : `capture share of the walsender ceiling (pg_recvlogical): ${shape}`,
        target: ">= 0.60",
        met: false,
      });
      expect(result.targets[2]!.figure).toBe("commit-to-durable-file latency p50, ms");
      // Without --keep-data the bench removes what it wrote.
      expect(existsSync(join(dir, ".bench", "capture"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
