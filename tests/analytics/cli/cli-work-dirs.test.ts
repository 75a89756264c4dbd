// Work dirs of killed runs (SIGKILL leaves `<tmp>/cdc-scd2-*` with spill files and downloads) are
// removed by the next run, and only those: a dir is removed when its marker names a process on this
// host that no longer exists; one in use, one without a marker, another host's, or a link is kept.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLines, readScd2, runCli, writeFixture } from "./cli-helpers";

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "cli-work-dirs-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const MARKER = ".cdc-scd2-work-dir.json";
/** The pid of a process that has exited. */
const exitedPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid!;

function workDir(root: string, name: string, marker?: Record<string, unknown>): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, "duckdb-spill"), { recursive: true });
  writeFileSync(path.join(dir, "duckdb-spill", "spill.tmp"), Buffer.alloc(1024 * 1024));
  if (marker) writeFileSync(path.join(dir, MARKER), JSON.stringify(marker));
  return dir;
}
const marker = (pid: number, host = hostname()) => ({
  app: "cdc-scd2",
  host,
  pid,
  createdAt: "2026-12-01T00:00:00Z",
});
const workDirsIn = (root: string) =>
  readdirSync(root)
    .filter((name) => name.startsWith("cdc-scd2-"))
    .sort();

describe("cdc-scd2 run and the work dirs of killed runs", () => {
  it("removes only work dirs provably left by a dead cdc-scd2 process on this host", async () => {
    const tmp = path.join(scratch, "tmp-1");
    mkdirSync(tmp);
    const dead = exitedPid();
    workDir(tmp, "cdc-scd2-dead01", marker(dead));
    workDir(tmp, "cdc-scd2-live01", marker(process.pid));
    workDir(tmp, "cdc-scd2-nomark");
    workDir(tmp, "cdc-scd2-other1", marker(dead, `not-${hostname()}`));
    workDir(tmp, "cdc-scd2-badjsn");
    writeFileSync(path.join(tmp, "cdc-scd2-badjsn", MARKER), "{not json");
    workDir(tmp, "elsewhere-dead", marker(dead));
    symlinkSync(workDir(scratch, "linked-target", marker(dead)), path.join(tmp, "cdc-scd2-link01"));

    const source = path.join(scratch, "source-1");
    writeFixture(source);
    const result = await runCli(["run", "--source", source, "--output", path.join(scratch, "out-1")], {
      env: { TMPDIR: tmp },
    });
    expect(result.code).toBe(0);
    expect(workDirsIn(tmp)).toEqual([
      "cdc-scd2-badjsn",
      "cdc-scd2-link01",
      "cdc-scd2-live01",
      "cdc-scd2-nomark",
      "cdc-scd2-other1",
    ]);
    expect(existsSync(path.join(tmp, "elsewhere-dead"))).toBe(true);
    expect(existsSync(path.join(scratch, "linked-target", MARKER))).toBe(true);
    const warning = jsonLines(result.stdout).find((l) => l.msg === "removed work dirs of killed runs");
    expect(warning).toMatchObject({ level: 40, dirs: [path.join(tmp, "cdc-scd2-dead01")] });
  });

  it("the work dir a SIGKILLed run leaves is removed by the next run", async () => {
    const tmp = path.join(scratch, "tmp-2");
    mkdirSync(tmp);
    const source = path.join(scratch, "source-2");
    const output = path.join(scratch, "out-2");
    writeFixture(source);
    let sent = false;
    const killed = await runCli(["run", "--source", source, "--output", output], {
      env: { TMPDIR: tmp },
      onStdout: (stdout, kill) => {
        if (!sent && stdout.includes('"files read"')) {
          sent = true;
          kill("SIGKILL");
        }
      },
    });
    expect(killed.signal).toBe("SIGKILL");
    const left = workDirsIn(tmp);
    expect(left).toHaveLength(1);
    expect(existsSync(path.join(tmp, left[0]!, MARKER))).toBe(true);

    // The killed run's lock is stale (its process is gone on this host): the next run takes it over.
    const next = await runCli(["run", "--source", source, "--output", output], { env: { TMPDIR: tmp } });
    expect(next.code).toBe(0);
    expect(workDirsIn(tmp)).toEqual([]);
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });
  });
});
