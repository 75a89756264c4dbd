/**
 * `npm start` with DATABASE_URL, as a user runs it (spawned, short workload): against a PostgreSQL
 * this test starts itself (wal_level=logical, a free port) and a role that is not a superuser but
 * has what docs/local-pipeline.md says an external database needs (LOGIN, REPLICATION, CREATEROLE,
 * CREATE on the database). Checks: exit 0; the summary's figures equal what the SCD2 output and the
 * source tables hold; the SCD2 current rows equal the tables column by column; the slot, publication
 * and CDC role stay on the server; no embedded server was started. And the failure paths: a server
 * with wal_level=replica, an unreachable port and a role without the privileges exit 1 with a
 * message naming the problem, before anything is created.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIPELINE_DEFAULTS, topicForTable } from "../../connectors/config";
import { PRODUCTS_COLUMNS, USERS_COLUMNS, type ColumnDefinition } from "../../connectors/database";
import { bucketContents, duckQuery } from "../../local/bucket";
import { checkExternalDatabase } from "../../local/external";
import { LOCAL_BUCKET } from "../../local/pipeline";
import { findFreePort, startEmbeddedPostgres, type EmbeddedPostgres } from "../../local/postgres";
import { scd2Relation } from "../../local/summary";
import { differences, duckText, pgText, type Row } from "./compare";
import { REPO_ROOT, runNpmStart, summaryRow } from "./npm-start-process";

const TABLES: [string, readonly ColumnDefinition[]][] = [
  ["commerce.products", PRODUCTS_COLUMNS],
  ["commerce.users", USERS_COLUMNS],
];
/** The TOASTed column of each table (~4 kB of random text in the workload). */
const TOASTED: Record<string, string> = { "commerce.products": "description", "commerce.users": "bio" };
const PLACEHOLDER = "__debezium_unavailable_value";
const ADMIN = "cdc_admin";
const ADMIN_PASSWORD = "admin-pw-4f1c";
const WEAK = "app_user";
const WEAK_PASSWORD = "weak-pw-9d2e";
const DATABASE = "shop";

function urlFor(server: EmbeddedPostgres, user: string, password: string, database: string): string {
  return `postgres://${user}:${password}@127.0.0.1:${server.port}/${database}`;
}

/** What exists of `path`: absent, or its mtime and inode (a new cluster would change both). */
function snapshot(path: string): string {
  if (!existsSync(path)) return "absent";
  const s = statSync(path);
  return `${s.ino}:${s.mtimeMs}`;
}

describe("npm start with DATABASE_URL (an external PostgreSQL, non-superuser role)", () => {
  const root = mkdtempSync(join(tmpdir(), "cdc-start-external-"));
  chmodSync(root, 0o755);
  const repoPgDir = join(REPO_ROOT, ".local", "pg");
  const repoPgBefore = snapshot(repoPgDir);
  let logical: EmbeddedPostgres | undefined;
  let replica: EmbeddedPostgres | undefined;
  /** Superuser connection to the database the pipeline uses (for setup and inspection only). */
  let su: pg.Client | undefined;

  beforeAll(async () => {
    const started = await Promise.allSettled([
      startEmbeddedPostgres({ dataDir: join(root, "pg-logical") }),
      startEmbeddedPostgres({ dataDir: join(root, "pg-replica"), settings: { wal_level: "replica" } }),
    ]);
    if (started[0].status === "fulfilled") logical = started[0].value;
    if (started[1].status === "fulfilled") replica = started[1].value;
    for (const s of started) if (s.status === "rejected") throw s.reason;

    const bootstrap = new pg.Client(logical!.connectionString);
    await bootstrap.connect();
    try {
      await bootstrap.query(`CREATE ROLE ${ADMIN} LOGIN PASSWORD '${ADMIN_PASSWORD}' REPLICATION CREATEROLE`);
      await bootstrap.query(`CREATE ROLE ${WEAK} LOGIN PASSWORD '${WEAK_PASSWORD}'`);
      await bootstrap.query(`CREATE DATABASE ${DATABASE}`);
      await bootstrap.query(`GRANT CREATE ON DATABASE ${DATABASE} TO ${ADMIN}`);
    } finally {
      await bootstrap.end();
    }
    su = new pg.Client(urlFor(logical!, "postgres", "password", DATABASE));
    await su.connect();
  });

  afterAll(async () => {
    await su?.end().catch(() => undefined);
    await Promise.allSettled([logical?.stop(), replica?.stop()]);
    rmSync(root, { recursive: true, force: true });
  });

  it("the pipeline's role is not a superuser; it has LOGIN, REPLICATION, CREATEROLE and CREATE on the database", async () => {
    const { rows } = await su!.query(
      `SELECT rolsuper, rolcanlogin, rolreplication, rolcreaterole, rolcreatedb,
              has_database_privilege($1, current_database(), 'CREATE') AS can_create
       FROM pg_roles WHERE rolname = $1`,
      [ADMIN],
    );
    expect(rows).toEqual([
      {
        rolsuper: false,
        rolcanlogin: true,
        rolreplication: true,
        rolcreaterole: true,
        rolcreatedb: false,
        can_create: true,
      },
    ]);
  });

  it("exits 1 naming wal_level on a server with wal_level=replica, and creates nothing there", async () => {
    const localDir = join(root, "local-replica");
    const { code, stdout, stderr } = await runNpmStart(replica!.connectionString, [
      "--duration",
      "1",
      "--fresh",
      "--local-dir",
      localDir,
    ]);
    expect(code, stderr.slice(-3000)).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      `npm start failed: DATABASE_URL postgres://postgres:***@127.0.0.1:${replica!.port}/postgres cannot run the pipeline: ` +
        `wal_level must be logical (it is "replica"; set wal_level=logical and restart the server)\n`,
    );
    expect(stderr).not.toContain(":password@");
    const client = new pg.Client(replica!.connectionString);
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname = 'commerce') AS schemas, (SELECT count(*)::int FROM pg_roles WHERE rolname = 'cdc_connector') AS roles",
      );
      expect(rows).toEqual([{ schemas: 0, roles: 0 }]);
    } finally {
      await client.end();
    }
    expect(existsSync(join(localDir, "pg"))).toBe(false);
  });

  it("exits 1 naming the URL (password hidden) and the refused connection for an unreachable port", async () => {
    const port = await findFreePort();
    const { code, stderr } = await runNpmStart(
      `postgres://${ADMIN}:${ADMIN_PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
      ["--duration", "1", "--local-dir", join(root, "local-unreachable")],
    );
    expect(code, stderr.slice(-3000)).toBe(1);
    expect(stderr).toContain(
      `npm start failed: cannot connect to DATABASE_URL postgres://${ADMIN}:***@127.0.0.1:${port}/${DATABASE}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
    expect(stderr).not.toContain(ADMIN_PASSWORD);
  });

  it("exits 1 naming every missing privilege of a role without them, and creates nothing", async () => {
    const { code, stderr } = await runNpmStart(urlFor(logical!, WEAK, WEAK_PASSWORD, DATABASE), [
      "--duration",
      "1",
      "--local-dir",
      join(root, "local-weak"),
    ]);
    expect(code, stderr.slice(-3000)).toBe(1);
    expect(stderr).toContain(
      `npm start failed: DATABASE_URL postgres://${WEAK}:***@127.0.0.1:${logical!.port}/${DATABASE} cannot run the pipeline: ` +
        `role "${WEAK}" lacks REPLICATION and CREATEROLE (ALTER ROLE "${WEAK}" REPLICATION CREATEROLE); ` +
        `role "${WEAK}" lacks CREATE on database "${DATABASE}" (GRANT CREATE ON DATABASE "${DATABASE}" TO "${WEAK}")\n`,
    );
    const { rows } = await su!.query(
      "SELECT (SELECT count(*)::int FROM pg_namespace WHERE nspname = 'commerce') AS schemas, (SELECT count(*)::int FROM pg_replication_slots) AS slots",
    );
    expect(rows).toEqual([{ schemas: 0, slots: 0 }]);
  });

  it("runs the whole pipeline on it: exit 0, the summary matches the SCD2 output and the source tables", async () => {
    const localDir = join(root, "local");
    const { code, stdout, stderr } = await runNpmStart(urlFor(logical!, ADMIN, ADMIN_PASSWORD, DATABASE), [
      "--duration",
      "3",
      "--rate",
      "30",
      "--fresh",
      "--local-dir",
      localDir,
    ]);
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(stdout + stderr).not.toContain(ADMIN_PASSWORD);

    // No embedded server: no data directory, no such step, and the repo's .local/pg is as it was.
    expect(existsSync(join(localDir, "pg"))).toBe(false);
    expect(snapshot(repoPgDir)).toBe(repoPgBefore);
    const logs = stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event?: string; msg?: string; databaseUrl?: string });
    const steps = logs.filter((l) => l.event === "step");
    expect(steps.map((l) => l.msg)).toEqual([
      "checking DATABASE_URL (wal_level, the role's privileges)",
      "applying the source setup (schema, tables, role, grants, publication, slot)",
      "seeding rows that exist before capture starts (the initial snapshot)",
      "starting the local connector runtime",
      "running the workload for 3 s at 30 transactions/s",
      "waiting for the change files to land",
      "running the SCD2 job",
    ]);
    expect(steps[0]!.databaseUrl).toBe(`postgres://${ADMIN}:***@127.0.0.1:${logical!.port}/${DATABASE}`);

    const scd2Dir = join(localDir, "scd2");
    const topicsDirPath = join(localDir, "bucket", LOCAL_BUCKET, PIPELINE_DEFAULTS.topicsDir);
    const contents = await bucketContents(
      topicsDirPath,
      TABLES.map(([t]) => topicForTable(PIPELINE_DEFAULTS.topicPrefix, t)),
    );
    let lostCells = 0;
    for (const [i, [table, columns]] of TABLES.entries()) {
      const [changes, captured, files, versions, current, deleted] = summaryRow(stdout, table);
      const relation = scd2Relation(scd2Dir, table);

      // Fresh bucket, no restart: one change record per committed row change, all in the bucket.
      expect(captured, table).toBe(changes);
      expect([captured, files], table).toEqual([contents[i]!.records, contents[i]!.files]);
      expect(changes, table).toBeGreaterThanOrEqual(table === "commerce.products" ? 40 : 25);

      // The source tables now, and the SCD2 output.
      const source = (
        await su!.query<Row>(`SELECT ${columns.map(pgText).join(", ")} FROM ${table} ORDER BY ${table}.id`)
      ).rows;
      const [figures] = await duckQuery(
        `SELECT count(*) AS versions, count(DISTINCT id) AS keys,
                count(*) FILTER (WHERE is_current) AS current,
                count(*) FILTER (WHERE is_current AND is_deleted) AS current_deleted
         FROM ${relation}`,
      );
      expect(versions, table).toBe(Number(figures!.versions));
      expect(current, table).toBe(source.length);
      expect(Number(figures!.current_deleted), table).toBe(0);
      // Every key the stream ever saw is in the table now, or deleted.
      expect(deleted, table).toBe(Number(figures!.keys) - source.length);

      const types = new Map(
        (await duckQuery(`DESCRIBE SELECT * FROM ${relation}`)).map((r) => [
          String(r.column_name),
          String(r.column_type),
        ]),
      );
      const select = columns.map((c) => duckText(c.name, types.get(c.name) ?? "VARCHAR")).join(", ");
      const scd2Current = (await duckQuery(
        `SELECT ${select} FROM ${relation} WHERE is_current ORDER BY CAST(id AS BIGINT)`,
      )) as Row[];
      // npm start uses REPLICA IDENTITY DEFAULT and its workload changes primary keys: the new key's
      // create event carries the TOAST placeholder for an unchanged TOASTed column, so the value is in
      // no event and SCD2 holds NULL (docs/local-pipeline.md). Exactly those cells may differ.
      const toasted = TOASTED[table]!;
      const lost = new Set(
        (
          await duckQuery(
            `SELECT CAST(id AS VARCHAR) AS id FROM read_parquet('${join(topicsDirPath, topicForTable(PIPELINE_DEFAULTS.topicPrefix, table))}/**/*.parquet')
             WHERE __deleted IS DISTINCT FROM 'true' GROUP BY id
             HAVING bool_and(coalesce("${toasted}" = '${PLACEHOLDER}', false))`,
          )
        ).map((r) => String(r.id)),
      );
      const expectedRows = source.map((row) => (lost.has(row.id!) ? { ...row, [toasted]: null } : row));
      for (const row of source)
        if (lost.has(row.id!)) expect(row[toasted], `${table} id ${row.id}`).not.toBeNull();
      expect(differences(expectedRows, scd2Current), table).toEqual([]);
      expect(scd2Current, table).toEqual(expectedRows);
      lostCells += source.filter((row) => lost.has(row.id!)).length;
    }

    console.info(`TOASTed values lost to primary-key changes under REPLICA IDENTITY DEFAULT: ${lostCells}`);

    // npm start drops nothing: the slot (inactive now), the publication and the CDC role stay.
    const slots = await su!.query(
      `SELECT slot_name, plugin, slot_type, database, active, confirmed_flush_lsn IS NOT NULL AS confirmed
       FROM pg_replication_slots`,
    );
    expect(slots.rows).toEqual([
      {
        slot_name: "cdc_slot",
        plugin: "pgoutput",
        slot_type: "logical",
        database: DATABASE,
        active: false,
        confirmed: true,
      },
    ]);
    const publication = await su!.query(
      `SELECT p.pubname, pg_get_userbyid(p.pubowner) AS owner,
              array_agg(t.schemaname || '.' || t.tablename ORDER BY t.tablename) AS tables
       FROM pg_publication p JOIN pg_publication_tables t ON t.pubname = p.pubname GROUP BY p.pubname, p.pubowner`,
    );
    expect(publication.rows).toEqual([
      {
        pubname: "cdc_publication",
        owner: ADMIN,
        tables: ["commerce.cdc_heartbeat", "commerce.cdc_signal", "commerce.products", "commerce.users"],
      },
    ]);
    const role = await su!.query(
      "SELECT rolsuper, rolcanlogin, rolreplication FROM pg_roles WHERE rolname = 'cdc_connector'",
    );
    expect(role.rows).toEqual([{ rolsuper: false, rolcanlogin: true, rolreplication: true }]);
  });
  it("after the run, the check passes for the role that created cdc_connector and names the ADMIN OPTION for another", async () => {
    const admin = await checkExternalDatabase(urlFor(logical!, ADMIN, ADMIN_PASSWORD, DATABASE));
    await admin.end();
    await su!.query(`GRANT CREATE ON DATABASE ${DATABASE} TO ${WEAK}`);
    await su!.query(`ALTER ROLE ${WEAK} REPLICATION CREATEROLE`);
    await expect(checkExternalDatabase(urlFor(logical!, WEAK, WEAK_PASSWORD, DATABASE))).rejects.toThrow(
      `DATABASE_URL postgres://${WEAK}:***@127.0.0.1:${logical!.port}/${DATABASE} cannot run the pipeline: ` +
        `role "cdc_connector" exists and role "${WEAK}" has no ADMIN OPTION on it, so it cannot set its password ` +
        `(GRANT "cdc_connector" TO "${WEAK}" WITH ADMIN OPTION)`,
    );
    await su!.query(`GRANT cdc_connector TO ${WEAK} WITH ADMIN OPTION`);
    const weak = await checkExternalDatabase(urlFor(logical!, WEAK, WEAK_PASSWORD, DATABASE));
    await weak.end();
  });
});
