// The stack's DDL resource on a real PostgreSQL, run as a non-superuser admin role like the RDS
// master user (CREATEROLE, CREATE on the database, allowed to grant rds_replication and to create
// slots; here a stand-in `rds_replication` role and the REPLICATION attribute), against databases
// whose tables the application owns (issue: production tables owned by the application) and an
// empty one (a first `up` on a new database: the gate, then migrations, then capture).
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applySourceSetup,
  createSlotSql,
  createTableSql,
  grantSql,
  publicationSql,
  roleSql,
  sourceSetup,
  type SourceSetup,
} from "../../../connectors/database";
import { ddlChecks, ddlStatements, MISSING_TABLE_STEP } from "../../../infra/cdc-objects";
import type { DatabaseConnection } from "../../../connectors/database/connection";
import { sqlStatementsProvider } from "../../../infra/sql-statements";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../local/postgres";

const provider = sqlStatementsProvider as Required<typeof sqlStatementsProvider>;
let server: EmbeddedPostgres;
let root: string;

function connection(database: string, user = "postgres", password = "password"): DatabaseConnection {
  return { host: "127.0.0.1", port: server.port, database, user, password, sslMode: "disable" };
}

async function sql<T extends object = Record<string, unknown>>(
  database: string,
  text: string,
  as = connection(database),
): Promise<T[]> {
  const { sslMode: _plain, ...config } = as;
  const client = new Client({ ...config, ssl: false });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** A database with an RDS-like admin role that owns nothing in it. */
async function newDatabase(name: string, admin: string): Promise<void> {
  await sql("postgres", `CREATE DATABASE ${name}`);
  await sql("postgres", `CREATE ROLE ${admin} LOGIN PASSWORD 'admin' CREATEROLE REPLICATION`);
  await sql("postgres", `GRANT CREATE ON DATABASE ${name} TO ${admin}`);
  await sql("postgres", `GRANT rds_replication TO ${admin} WITH ADMIN OPTION`);
}

/** What the application's migrations do: its schema and tables, owned by its own role. */
async function migrate(database: string, setup: SourceSetup): Promise<void> {
  await sql(database, "CREATE SCHEMA IF NOT EXISTS commerce AUTHORIZATION app_owner");
  for (const table of setup.tables) {
    await sql(database, createTableSql(table));
    await sql(database, `ALTER TABLE ${table.qualifiedName} OWNER TO app_owner`);
  }
}

/** What the postgresql provider's Role/Grant/Publication/ReplicationSlot resources run, as `admin`. */
async function applyCdcObjects(database: string, admin: string, setup: SourceSetup): Promise<void> {
  const as = connection(database, admin, "admin");
  for (const text of [
    ...roleSql(setup.role),
    ...setup.grants.map(grantSql),
    publicationSql(setup.publication),
  ]) {
    await sql(database, text, as);
  }
  await sql(database, createSlotSql(setup.slot), as);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "cdc-preflight-"));
  chmodSync(root, 0o755);
  server = await startEmbeddedPostgres({ dataDir: join(root, "pg") });
  await sql("postgres", "CREATE ROLE app_owner NOLOGIN");
  await sql("postgres", "CREATE ROLE rds_replication NOLOGIN");
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the DDL resource's checks, as a non-superuser admin", () => {
  it("refuses tables the application owns, naming the owner and the grant, and creates nothing", async () => {
    await newDatabase("owned", "admin_owned");
    const setup = sourceSetup({ target: "rds", roleName: "cdc_owned", slotName: "slot_owned" });
    await migrate("owned", setup);
    const inputs = {
      connection: connection("owned", "admin_owned", "admin"),
      checks: ddlChecks(setup, false),
      statements: ddlStatements(setup, false),
    };

    const error = (await provider.create(inputs).catch((e: unknown) => e)) as Error;
    expect(error.message.split("\n")).toEqual([
      "cannot run the statements on 127.0.0.1/owned, nothing was changed:",
      "  - schema commerce is owned by role app_owner, and role admin_owned lacks CREATE or USAGE WITH GRANT OPTION on it: as app_owner run GRANT app_owner TO admin_owned;",
      "  - table commerce.products is owned by role app_owner, and role admin_owned is neither that role nor a member of it: CREATE PUBLICATION … FOR TABLE and GRANT SELECT need the owner's rights; as app_owner (or a role with ADMIN OPTION on it) run GRANT app_owner TO admin_owned;",
      "  - table commerce.users is owned by role app_owner, and role admin_owned is neither that role nor a member of it: CREATE PUBLICATION … FOR TABLE and GRANT SELECT need the owner's rights; as app_owner (or a role with ADMIN OPTION on it) run GRANT app_owner TO admin_owned;",
    ]);
    expect(await sql("owned", "SELECT relname FROM pg_class WHERE relname = 'cdc_heartbeat'")).toEqual([]);

    // The check says what PostgreSQL itself would refuse.
    const admin = connection("owned", "admin_owned", "admin");
    for (const statement of [
      "CREATE PUBLICATION probe FOR TABLE commerce.products",
      "GRANT SELECT ON commerce.products TO PUBLIC",
    ]) {
      await expect(sql("owned", statement, admin)).rejects.toThrow("permission denied for schema commerce");
    }
    await sql("owned", "GRANT USAGE ON SCHEMA commerce TO admin_owned");
    await expect(sql("owned", "CREATE PUBLICATION probe FOR TABLE commerce.products", admin)).rejects.toThrow(
      "must be owner of table products",
    );
    await sql("owned", "REVOKE USAGE ON SCHEMA commerce FROM admin_owned");

    // The local path's applySourceSetup runs the same checks first (it creates the tables itself).
    const local = new Client({ ...connection("owned", "admin_owned", "admin"), ssl: false });
    await local.connect();
    const refused = (await applySourceSetup(local, { roleName: "cdc_local" }).catch(
      (e: unknown) => e,
    )) as Error;
    await local.end();
    expect(refused.message.split("\n")).toEqual([
      "source setup cannot run, nothing was changed:",
      ...error.message.split("\n").slice(1),
    ]);
    expect(await sql("owned", "SELECT rolname FROM pg_roles WHERE rolname = 'cdc_local'")).toEqual([]);

    // The documented fix, then every object of the stack as that admin.
    await sql("postgres", "GRANT app_owner TO admin_owned");
    await provider.create(inputs);
    await applyCdcObjects("owned", "admin_owned", setup);
    expect(
      await sql(
        "owned",
        "SELECT tablename FROM pg_publication_tables WHERE pubname = 'cdc_publication' ORDER BY 1",
      ),
    ).toEqual(
      setup.publication.tables
        .map((t) => t.split(".")[1]!)
        .sort()
        .map((tablename) => ({ tablename })),
    );
    expect(
      await sql(
        "owned",
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = 'cdc_owned' AND table_name IN ('products', 'users') ORDER BY 1",
      ),
    ).toEqual([
      { table_name: "products", privilege_type: "SELECT" },
      { table_name: "users", privilege_type: "SELECT" },
    ]);
  }, 60_000);

  it("refuses a server without wal_level=logical before creating anything", async () => {
    const replica = await startEmbeddedPostgres({
      dataDir: join(root, "replica"),
      settings: { wal_level: "replica" },
    });
    try {
      const setup = sourceSetup({ target: "rds" });
      const inputs = {
        connection: { ...connection("postgres"), port: replica.port },
        checks: ddlChecks(setup, true),
        statements: ddlStatements(setup, true),
      };
      await expect(provider.create(inputs)).rejects.toThrow(
        "cannot run the statements on 127.0.0.1/postgres, nothing was changed:\n" +
          "  - wal_level is replica: the slot needs wal_level=logical (on RDS: rds.logical_replication=1 in the " +
          "parameter group, then a reboot)",
      );
      const client = new Client({
        host: "127.0.0.1",
        port: replica.port,
        user: "postgres",
        password: "password",
      });
      await client.connect();
      const schemas = (await client.query("SELECT nspname FROM pg_namespace WHERE nspname = 'commerce'"))
        .rows;
      await client.end();
      expect(schemas).toEqual([]);
    } finally {
      await replica.stop();
    }
  }, 60_000);

  it("on an empty database: fails naming the missing tables and the step, then captures once they exist", async () => {
    await newDatabase("fresh", "admin_fresh");
    await sql("postgres", "GRANT app_owner TO admin_fresh");
    const setup = sourceSetup({ target: "rds", roleName: "cdc_fresh", slotName: "slot_fresh" });
    const inputs = {
      connection: connection("fresh", "admin_fresh", "admin"),
      checks: ddlChecks(setup, false),
      statements: ddlStatements(setup, false),
    };

    // 1. The first `up` on the new database: the gate, before anything is created.
    const error = (await provider.create(inputs).catch((e: unknown) => e)) as Error;
    expect(error.message.split("\n")).toEqual([
      "cannot run the statements on 127.0.0.1/fresh, nothing was changed:",
      `  - table commerce.products does not exist in database fresh: this setup publishes and grants on it but does not create it; ${MISSING_TABLE_STEP}`,
      `  - table commerce.users does not exist in database fresh: this setup publishes and grants on it but does not create it; ${MISSING_TABLE_STEP}`,
    ]);
    expect(await sql("fresh", "SELECT nspname FROM pg_namespace WHERE nspname = 'commerce'")).toEqual([]);
    // Why not a publication for the whole schema, which PostgreSQL 15+ allows before the tables exist:
    // it needs a superuser, which the RDS master user is not.
    await sql("fresh", "CREATE SCHEMA probe", connection("fresh", "admin_fresh", "admin"));
    await expect(
      sql(
        "fresh",
        "CREATE PUBLICATION probe FOR TABLES IN SCHEMA probe",
        connection("fresh", "admin_fresh", "admin"),
      ),
    ).rejects.toThrow("must be superuser to create FOR TABLES IN SCHEMA publication");

    // 2. The application's migrations, 3. the next `up`, 4. a change reaches the slot.
    await migrate("fresh", setup);
    await provider.create(inputs);
    await applyCdcObjects("fresh", "admin_fresh", setup);
    await sql(
      "fresh",
      "SET ROLE app_owner; INSERT INTO commerce.products (sku, name, price) VALUES ('S-1', 'Lamp', 9.50)",
    );
    const messages = await sql<{ kind: string; relation: string | null }>(
      "fresh",
      `SELECT chr(get_byte(data, 0)) AS kind,
              CASE WHEN get_byte(data, 0) = ascii('R') THEN encode(substring(data from 6 for 17), 'escape') END AS relation
       FROM pg_logical_slot_peek_binary_changes('slot_fresh', NULL, NULL, 'proto_version', '1', 'publication_names', 'cdc_publication')`,
    );
    expect(messages.map((m) => m.kind)).toEqual(["B", "R", "I", "C"]);
    expect(messages[1]!.relation).toBe("commerce\\000products"); // the relation message names the table
  }, 60_000);
});
