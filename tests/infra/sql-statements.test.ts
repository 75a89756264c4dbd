// The SqlStatements dynamic provider against a real PostgreSQL: it creates the heartbeat and
// commerce tables from connectors/database's definition, is idempotent, rolls back on failure.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sourceSetup } from "../../connectors/database";
import { ddlStatements } from "../../infra/cdc-objects";
import type { DatabaseConnection } from "../../connectors/database/connection";
import { sqlStatementsProvider, type SqlStatementsInputs } from "../../infra/sql-statements";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../local/postgres";

let server: EmbeddedPostgres;
let root: string;
let connection: DatabaseConnection;
const provider = sqlStatementsProvider as Required<typeof sqlStatementsProvider>;

async function query<T extends object>(sql: string, database = "postgres"): Promise<T[]> {
  const { sslMode: _plain, ...config } = connection;
  const client = new Client({ ...config, database, ssl: false });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function tablesIn(database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_schema = 'commerce' ORDER BY 1",
    database,
  );
  return rows.map((r) => r.name);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "infra-sql-"));
  chmodSync(root, 0o755); // the server runs as a non-root user when the tests run as root
  server = await startEmbeddedPostgres({ dataDir: join(root, "pg") });
  connection = {
    host: "127.0.0.1",
    port: server.port,
    database: "postgres",
    user: "postgres",
    password: "password",
    sslMode: "disable",
  };
  await query("CREATE DATABASE app_full");
  await query("CREATE DATABASE app_owned_by_app");
});

afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("SqlStatements provider", () => {
  const setup = sourceSetup({ target: "rds" });
  // Every published table is created by the stack; the captured ones only when it owns them.
  const allTables = [...setup.publication.tables].sort();
  const stackTables = allTables.filter((t) => !setup.tables.some((c) => c.qualifiedName === t));

  it("creates the commerce and heartbeat tables, and running it again changes nothing", async () => {
    const inputs: SqlStatementsInputs = {
      connection: { ...connection, database: "app_full" },
      statements: ddlStatements(setup, true),
    };
    const created = await provider.create(inputs);
    expect(created).toEqual({ id: `127.0.0.1/app_full`, outs: { statements: inputs.statements } });
    expect(await tablesIn("app_full")).toEqual(allTables);
    await provider.update("127.0.0.1/app_full", { statements: [] }, inputs);
    expect(await tablesIn("app_full")).toEqual(allTables);
    const identity = await query<{ relname: string; relreplident: string }>(
      "SELECT relname, relreplident FROM pg_class WHERE relname IN ('products', 'users') ORDER BY relname",
      "app_full",
    );
    expect(identity).toEqual([
      { relname: "products", relreplident: "d" },
      { relname: "users", relreplident: "d" },
    ]);
  });

  it("creates only the schema and heartbeat table when the application owns the commerce tables", async () => {
    await provider.create({
      connection: { ...connection, database: "app_owned_by_app" },
      statements: ddlStatements(setup, false),
    });
    expect(await tablesIn("app_owned_by_app")).toEqual(stackTables);
  });

  it("rolls the whole list back and names the failing statement", async () => {
    const inputs = {
      connection,
      statements: ["CREATE TABLE half_done (id int)", "SELECT missing_column FROM nowhere"],
    };
    await expect(provider.create(inputs)).rejects.toThrow(
      'SQL failed: SELECT missing_column FROM nowhere: relation "nowhere" does not exist',
    );
    expect(await query("SELECT 1 FROM pg_class WHERE relname = 'half_done'")).toEqual([]);
  });

  it("runs its checks first: every row they return is listed and nothing runs", async () => {
    const inputs = {
      connection,
      checks: [
        "SELECT 'first problem' AS problem UNION ALL SELECT 'second problem'",
        "SELECT 'none' AS problem WHERE false",
        "SELECT 'third problem' AS problem",
      ],
      statements: ["CREATE TABLE checked_first (id int)"],
    };
    await expect(provider.create(inputs)).rejects.toThrow(
      "cannot run the statements on 127.0.0.1/postgres, nothing was changed:\n" +
        "  - first problem\n  - second problem\n  - third problem",
    );
    expect(await query("SELECT 1 FROM pg_class WHERE relname = 'checked_first'")).toEqual([]);
    await provider.create({ ...inputs, checks: ["SELECT 'none' AS problem WHERE false"] });
    expect(await query("SELECT relname FROM pg_class WHERE relname = 'checked_first'")).toEqual([
      { relname: "checked_first" },
    ]);
  });

  it("fails with the server's message when it cannot connect", async () => {
    await expect(
      provider.create({ connection: { ...connection, password: "wrong" }, statements: ["SELECT 1"] }),
    ).rejects.toThrow('password authentication failed for user "postgres"');
  });

  it("checks its inputs and diffs on the statements only", async () => {
    expect(
      (
        await provider.check({} as SqlStatementsInputs, {
          connection: { ...connection, host: "" },
          statements: [],
        })
      ).failures,
    ).toEqual([
      { property: "statements", reason: "must list at least one SQL statement" },
      { property: "connection", reason: "must name the host to connect to" },
    ]);
    // A preview of a first deploy: the connection is not known until the database exists.
    const unknown = pulumi.runtime.unknownValue as unknown as DatabaseConnection;
    expect(
      (await provider.check({} as SqlStatementsInputs, { connection: unknown, statements: ["SELECT 1"] }))
        .failures,
    ).toEqual([]);
    const news = { connection, statements: ["SELECT 1"] };
    expect(await provider.diff("id", { statements: ["SELECT 1"] }, news)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect((await provider.diff("id", { statements: ["SELECT 2"] }, news)).changes).toBe(true);
  });

  it("leaves the tables in place on delete", async () => {
    await provider.delete("127.0.0.1/app_full", { statements: ddlStatements(setup, true) });
    expect(await tablesIn("app_full")).toEqual(allTables);
  });
});
