// Runs the real cdc-scd2 CLI as a child process and writes small change-file fixtures in the sink layout.
import { DuckDBInstance } from "@duckdb/node-api";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll } from "vitest";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const CLI = path.join(REPO_ROOT, "analytics", "src", "cli.ts");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `node --import tsx analytics/src/cli.ts ...args` (asynchronously: tests may serve S3 meanwhile). */
export function runCli(
  args: readonly string[],
  options: {
    env?: Record<string, string>;
    onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** stdout parsed as pino JSON lines (throws if a line is not JSON: every line must be one). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The first line of a failed run's error message (its JSON error line). */
export function failureLine(stdout: string): string {
  const line = jsonLines(stdout).find((l) => l.level === 50);
  return String(line?.msg).split("\n")[0]!;
}

/** Every file under `dir` with its bytes: to prove a failed run changed nothing. */
export function fileContents(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return Object.fromEntries(
    files.map((e) => {
      const file = path.join(e.parentPath, e.name);
      return [path.relative(dir, file), readFileSync(file).toString("base64")];
    }),
  );
}

/** One unwrapped Debezium row as the S3 sink writes it with JsonFormat (ExtractNewRecordState, rewrite). */
export function changeRow(
  op: "r" | "c" | "u" | "d",
  table: string,
  lsn: number,
  commitMs: number,
  row: Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...row,
    __op: op,
    __table: table,
    __lsn: lsn,
    __txId: 700 + lsn,
    __source_ts_ms: commitMs,
    __sequence: JSON.stringify([op === "r" ? null : String(lsn - 1), String(lsn)]),
    __deleted: op === "d" ? "true" : "false",
  };
}

/** Writes `<topic>/partition=<p>/<topic>+<p>+<offset>.json` under `root`. */
export function writeChangeFile(
  root: string,
  topic: string,
  partition: number,
  offset: number,
  rows: Record<string, unknown>[],
): string {
  const dir = path.join(root, topic, `partition=${partition}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${topic}+${partition}+${String(offset).padStart(10, "0")}.json`);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

const T0 = Date.UTC(2026, 0, 1);
const product = (id: number, name: string, price: number, createdAt = T0 * 1000) => ({
  id,
  name,
  price,
  created_at: createdAt,
});

/**
 * The small fixture the CLI tests run over. Expected SCD2 tables:
 * products: id 1 → 2 versions (snapshot, update), id 2 → 1 version ended by a delete, id 3 → 1 version;
 *           4 versions, 2 current, 1 deleted; 5 events in 2 files.
 * users:    id 1 → 2 versions (create, update); 2 versions, 1 current, 0 deleted; 2 events in 1 file.
 */
export function writeFixture(root: string): void {
  writeChangeFile(root, "cdc.commerce.products", 0, 0, [
    changeRow("r", "products", 100, T0, product(1, "desk", 120)),
    changeRow("r", "products", 100, T0, product(2, "lamp", 30)),
    changeRow("u", "products", 200, T0 + 60_000, product(1, "desk", 99)),
  ]);
  writeChangeFile(root, "cdc.commerce.products", 0, 3, [
    changeRow("d", "products", 300, T0 + 120_000, product(2, "", 0, 0)),
    changeRow("c", "products", 400, T0 + 180_000, product(3, "chair", 45)),
  ]);
  writeChangeFile(root, "cdc.commerce.users", 0, 0, [
    changeRow("c", "users", 150, T0 + 30_000, { id: 1, email: "a@example.com" }),
    changeRow("u", "users", 250, T0 + 90_000, { id: 1, email: "b@example.com" }),
  ]);
}

export const FIXTURE_COUNTS = {
  "commerce.products": { files: 2, events: 5, versions: 4, current: 2, deleted: 1 },
  "commerce.users": { files: 1, events: 2, versions: 2, current: 1, deleted: 0 },
};

/** Reads an SCD2 output table with DuckDB: row count, current and deleted versions, column types. */
export async function readScd2(dir: string): Promise<{
  versions: number;
  current: number;
  deleted: number;
  types: Record<string, string>;
}> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const glob = path.join(dir, "**", "*.parquet").replaceAll("'", "''");
    const counts = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS versions, count(*) FILTER (is_current)::INTEGER AS current,
              count(*) FILTER (is_deleted)::INTEGER AS deleted FROM read_parquet('${glob}')`,
    );
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${glob}')`);
    const types = Object.fromEntries(
      described.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]),
    );
    const [row] = counts.getRowObjectsJS();
    return {
      versions: Number(row!.versions),
      current: Number(row!.current),
      deleted: Number(row!.deleted),
      types,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * A scratch folder for the enclosing test file (made before its tests, removed after them) and, per call, a
 * fresh case in it: a source folder holding the CLI fixture, and an output folder not made yet.
 */
export function useFixtureCases(prefix: string): {
  scratch(): string;
  fixture(): { source: string; output: string };
} {
  let scratch = "";
  let counter = 0;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  return {
    scratch: () => scratch,
    fixture() {
      const dir = path.join(scratch, `case-${++counter}`);
      const source = path.join(dir, "source");
      writeFixture(source);
      return { source, output: path.join(dir, "output") };
    },
  };
}
