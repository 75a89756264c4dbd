import * as fs from "node:fs/promises";
import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Json } from "@duckdb/node-api";
import type { Logger } from "pino";
import { DECODE_MACROS } from "./decode/columns";

export type Row = Record<string, Json>;

/**
 * The job's DuckDB `memory_limit` unless told otherwise: a bounded footprint (peak RSS stays under
 * 2 GiB) whatever the host's RAM; larger work spills to `workDir`. DuckDB's own default is 80% of RAM.
 */
export const DEFAULT_MEMORY_LIMIT = "1GB";

export interface DuckOptions {
  /** DuckDB spills here (`temp_directory`). */
  workDir: string;
  /** Default DEFAULT_MEMORY_LIMIT. */
  memoryLimit?: string;
  threads?: number;
  logger?: Logger;
}

/** One in-memory DuckDB database and connection for a run, configured to spill under `workDir`. */
export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly logger: Logger | undefined,
  ) {}

  static async open(options: DuckOptions): Promise<Duck> {
    const spill = path.join(options.workDir, "duckdb-spill");
    await fs.mkdir(spill, { recursive: true });
    const settings: Record<string, string> = {
      temp_directory: spill,
      // Result order is never relied on (every ordering is explicit), and not keeping it lets COPY stream.
      preserve_insertion_order: "false",
      memory_limit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    };
    if (options.threads !== undefined) settings.threads = String(options.threads);
    const instance = await DuckDBInstance.create(":memory:", settings);
    const connection = await instance.connect();
    const duck = new Duck(instance, connection, options.logger);
    // TIMESTAMP -> TIMESTAMPTZ casts read the session zone: make it UTC, whatever the host says.
    // (ICU is built in but loads after creation, so this cannot be a creation setting.)
    await duck.run("SET TimeZone = 'UTC'");
    await duck.run(DECODE_MACROS);
    return duck;
  }

  async run(sql: string): Promise<void> {
    await this.timed(sql, () => this.connection.run(sql));
  }

  async rows(sql: string): Promise<Row[]> {
    const reader = await this.timed(sql, () => this.connection.runAndReadAll(sql));
    return reader.getRowObjectsJson();
  }

  /** Logs each statement's wall and CPU time at debug level: where a slow run spends its time. */
  private async timed<T>(sql: string, action: () => Promise<T>): Promise<T> {
    if (!this.logger?.isLevelEnabled("debug")) return action();
    const started = Date.now();
    const cpu = process.cpuUsage();
    const result = await action();
    const used = process.cpuUsage(cpu);
    const statement = sql.slice(0, 120).replace(/\s+/g, " ");
    this.logger.debug(
      { ms: Date.now() - started, cpuMs: Math.round((used.user + used.system) / 1000), statement },
      "duckdb",
    );
    return result;
  }

  /** The memory limit DuckDB applies, in bytes (it prints it as e.g. `953.6 MiB`). */
  async memoryLimitBytes(): Promise<number> {
    const [row] = await this.rows("SELECT current_setting('memory_limit') AS v");
    const match = /^([\d.]+)\s*(bytes|KiB|MiB|GiB|TiB)$/.exec(String(row?.v));
    if (!match) throw new Error(`unexpected DuckDB memory_limit ${String(row?.v)}`);
    const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    return Number(match[1]) * 1024 ** units.indexOf(match[2] as string);
  }

  /** A single number from a one-row, one-column query. */
  async count(sql: string): Promise<number> {
    const [row] = await this.rows(sql);
    return Number(Object.values(row ?? {})[0] ?? 0);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
