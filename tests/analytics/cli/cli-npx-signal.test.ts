// SIGTERM to `npx cdc-scd2` ends npx (and the shell it runs the bin in) but is not passed on: the job
// must notice that the process that started it went away, stop without committing and exit.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { launchedThroughNpm, watchParent } from "../../../analytics/src/parent";
import { REPO_ROOT, fileContents, jsonLines, readScd2, runCli, useFixtureCases } from "./cli-helpers";

const BUILT_CLI = path.join(REPO_ROOT, "analytics", "dist", "analytics", "src", "cli.js");
const cases = useFixtureCases("cli-npx-");

/** A change file large enough that the run is still reading or building when the test stops it. */
function writeLargeChangeFile(source: string): void {
  const dir = path.join(source, "cdc.commerce.products", "partition=0");
  const rows: string[] = [];
  for (let i = 0; i < 300_000; i += 1) {
    const row = { id: 10 + (i % 40_000), name: `n${i}`, price: i % 500, created_at: 0 };
    const meta = { __op: "u", __lsn: 1000 + i, __source_ts_ms: 1767225600000 + i, __deleted: "false" };
    rows.push(JSON.stringify({ ...row, ...meta }));
  }
  writeFileSync(path.join(dir, "cdc.commerce.products+0+0000000005.json"), `${rows.join("\n")}\n`);
}

/** The pid in the marker of the job's work dir under `tmp`, or 0 when there is none. */
function markerPid(tmp: string): number {
  const dir = readdirSync(tmp).find((d) => d.startsWith("cdc-scd2-"));
  const marker = dir && path.join(tmp, dir, ".cdc-scd2-work-dir.json");
  return marker && existsSync(marker) ? (JSON.parse(readFileSync(marker, "utf8")) as { pid: number }).pid : 0;
}

/** Whether `pid` still runs: an exited process whose new parent has not reaped it yet is a zombie (Z). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("cdc-scd2 started through npx", () => {
  it("stops without committing when npx is stopped with SIGTERM, and exits", async () => {
    expect(existsSync(BUILT_CLI), `${BUILT_CLI} is missing: run npm run build first`).toBe(true);
    const { source, output } = cases.fixture();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
    const before = fileContents(output);
    writeLargeChangeFile(source);
    // The job's default work dir goes under TMPDIR: its marker names the job's pid.
    const tmp = path.join(cases.scratch(), "tmp");
    mkdirSync(tmp);

    const npx = spawn("npx", ["cdc-scd2", "run", "--source", source, "--output", output], {
      cwd: REPO_ROOT,
      env: { ...process.env, TMPDIR: tmp },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stopped = 0;
    let jobPid = 0;
    const closed = new Promise<void>((resolve) => npx.stdout.once("close", resolve));
    npx.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stopped === 0 && stdout.includes('"table started"')) {
        // The job's pid, from its work dir's marker (written before the run starts), read before npx is
        // stopped: once the job stops, it removes the work dir.
        jobPid = markerPid(tmp);
        stopped = Date.now();
        npx.kill("SIGTERM");
      }
    });
    const npxExit = new Promise<NodeJS.Signals | null>((resolve) => npx.once("exit", (_, s) => resolve(s)));
    expect(await npxExit).toBe("SIGTERM");
    expect(jobPid).toBeGreaterThan(0);
    // The job holds the pipe until it exits: its close is the job's exit.
    await closed;
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(running(jobPid)).toBe(false);

    const failed = jsonLines(stdout).find((l) => l.level === 50);
    expect(String(failed?.msg)).toMatch(
      /^stopped: the npm\/npx process that started it \(pid \d+\) went away; the previous output is left intact$/,
    );
    expect(stdout).not.toContain('"run done"');
    expect(fileContents(output)).toEqual(before);
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });
    // Its work dir was removed.
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("watchParent", () => {
  it.each([
    [{ npm_command: "exec" }, true],
    [{ npm_command: "run-script" }, true],
    [{ npm_command: "" }, false],
    [{}, false],
  ])("launchedThroughNpm(%j) is %s", (env, expected) => {
    expect(launchedThroughNpm(env)).toBe(expected);
  });

  it("calls back once, with the old parent, when the parent changes", async () => {
    const parents = [100, 100, 100, 1, 1, 1];
    let call = 0;
    const gone: number[] = [];
    watchParent(
      (pid) => gone.push(pid),
      () => parents[Math.min(call++, parents.length - 1)]!,
      5,
    );
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(gone).toEqual([100]);
  });

  it("stops watching when told to", async () => {
    let parent = 100;
    const gone: number[] = [];
    const stop = watchParent(
      (pid) => gone.push(pid),
      () => parent,
      5,
    );
    stop();
    parent = 1;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(gone).toEqual([]);
  });
});
