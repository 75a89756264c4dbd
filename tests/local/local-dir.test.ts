/**
 * The local directory's guards: a second `npm start -- --fresh` on a running one deletes nothing and
 * exits 1 naming the directory and the running pid; `--fresh` wipes only a directory npm start made.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claimLocalDir, LOCK_FILE, MARKER_FILE } from "../../local/local-dir";
import { REPO_ROOT, runNpmStart } from "./npm-start-process";

const root = mkdtempSync(join(tmpdir(), "cdc-local-dir-"));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A live process that is neither this one nor an npm start: a stand-in holder of a pid file. */
function idleProcess(): ChildProcess {
  return spawn(process.execPath, ["-e", "setTimeout(() => {}, 120000)"], { stdio: "ignore" });
}
const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once("exit", (c) => r(c)));

/** A directory as npm start leaves it: marker, pg/, bucket/, scd2/, connectors/ with a file each. */
function madeByNpmStart(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, MARKER_FILE), "created by npm start\n");
  for (const entry of ["pg", "bucket", "scd2", "connectors"]) {
    mkdirSync(join(dir, entry));
    writeFileSync(join(dir, entry, "f"), entry);
  }
  return dir;
}

describe("claimLocalDir", () => {
  it("wipes a directory npm start made, keeps its marker, and releases the lock", () => {
    const dir = madeByNpmStart("made");
    const release = claimLocalDir(dir, true);
    expect(readdirSync(dir).sort()).toEqual([MARKER_FILE, LOCK_FILE].sort());
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
    release();
    expect(readdirSync(dir)).toEqual([MARKER_FILE]);
  });

  it("marks a directory it creates, so a later --fresh may wipe it", () => {
    const dir = join(root, "new", "local");
    claimLocalDir(dir, false)();
    expect(readdirSync(dir)).toEqual([MARKER_FILE]);
  });

  it("refuses to wipe a directory without the marker (npm start did not create it), deleting nothing", () => {
    const dir = madeByNpmStart("unmarked");
    rmSync(join(dir, MARKER_FILE));
    expect(() => claimLocalDir(dir, true)).toThrow(
      `refusing to wipe ${dir}: it has no ${MARKER_FILE} marker, so npm start did not create it (remove it yourself if it is yours to lose)`,
    );
    expect(readdirSync(dir).sort()).toEqual(["bucket", "connectors", "pg", "scd2"]);
    expect(readFileSync(join(dir, "pg", "f"), "utf8")).toBe("pg");
  });

  it("refuses while another process holds the lock, naming it, and leaves the lock alone", async () => {
    const dir = madeByNpmStart("locked");
    const holder = idleProcess();
    try {
      writeFileSync(join(dir, LOCK_FILE), `${holder.pid}\n`);
      expect(() => claimLocalDir(dir, true)).toThrow(
        `npm start is already running on ${dir} (pid ${holder.pid}); stop it first`,
      );
      expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe(`${holder.pid}\n`);
      expect(readFileSync(join(dir, "bucket", "f"), "utf8")).toBe("bucket");
    } finally {
      holder.kill();
      await exited(holder);
    }
  });

  it("replaces a lock whose process is gone", async () => {
    const dir = madeByNpmStart("stale");
    const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await exited(gone);
    writeFileSync(join(dir, LOCK_FILE), `${gone.pid}\n`);
    const release = claimLocalDir(dir, false);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("refuses to wipe while a PostgreSQL server's pid in pg/postmaster.pid is alive", async () => {
    const dir = madeByNpmStart("server");
    const server = idleProcess();
    try {
      writeFileSync(join(dir, "pg", "postmaster.pid"), `${server.pid}\n${join(dir, "pg")}\n`);
      expect(() => claimLocalDir(dir, true)).toThrow(
        `refusing to wipe ${dir}: a PostgreSQL server (pid ${server.pid}) is running on ${join(dir, "pg")}`,
      );
      expect(readFileSync(join(dir, "pg", "f"), "utf8")).toBe("pg");
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    } finally {
      server.kill();
      await exited(server);
    }
  });
});

describe("npm start -- --fresh on a running npm start", () => {
  it("exits 1 naming the directory and the running pid, and deletes nothing", async () => {
    const localDir = join(root, "running");
    // The first run, spawned as node itself so its pid is the one holding the lock.
    const first = spawn(
      process.execPath,
      ["--import", "tsx", "local/start.ts", "--duration", "300", "--fresh", "--local-dir", localDir],
      { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: "" }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let firstLog = "";
    first.stderr!.on("data", (chunk: Buffer) => (firstLog += chunk.toString()));
    try {
      const deadline = Date.now() + 120_000;
      while (!existsSync(join(localDir, "connectors", "sink.json"))) {
        if (first.exitCode !== null || Date.now() > deadline)
          throw new Error(`the first npm start did not get going:\n${firstLog.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const second = await runNpmStart("", ["--fresh", "--local-dir", localDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(
        `npm start failed: npm start is already running on ${localDir} (pid ${first.pid}); stop it first\n`,
      );
      expect(existsSync(join(localDir, "pg", "PG_VERSION"))).toBe(true);
      expect(existsSync(join(localDir, "pg", "postmaster.pid"))).toBe(true);
      expect(existsSync(join(localDir, "connectors", "sink.json"))).toBe(true);
      expect(readFileSync(join(localDir, LOCK_FILE), "utf8")).toBe(`${first.pid}\n`);
    } finally {
      first.kill("SIGTERM");
    }
    await exited(first);
    // Once the first has stopped, its directory can be claimed again (its lock released, or stale).
    const release = claimLocalDir(localDir, false);
    expect(readFileSync(join(localDir, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
    release();
  });
});
