import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeatActionQuery } from "../../../connectors/config";
import { applySourceSetup, SourceSetupError } from "../../../connectors/database";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../../local/postgres";

describe("applySourceSetup on a real PostgreSQL", () => {
  const root = mkdtempSync(join(tmpdir(), "cdc-setup-"));
  chmodSync(root, 0o755);
  let server: EmbeddedPostgres;
  let admin: pg.Client;

  beforeAll(async () => {
    server = await startEmbeddedPostgres({ dataDir: join(root, "pg") });
    admin = new pg.Client(server.connectionString);
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const query = async (sql: string, params: unknown[] = []) => (await admin.query(sql, params)).rows;

  it("creates every object, and a second run changes nothing", async () => {
    await applySourceSetup(admin, { rolePassword: "local-secret" });
    const snapshot = async () => ({
      tables: await query(
        `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema = 'commerce' ORDER BY 1`,
      ),
      columns: await query(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = 'commerce' ORDER BY table_name, ordinal_position`,
      ),
      role: await query(
        `SELECT rolcanlogin, rolreplication, rolsuper FROM pg_roles WHERE rolname = 'cdc_connector'`,
      ),
      publication: await query(
        `SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = 'cdc_publication' ORDER BY 1`,
      ),
      slots: await query(
        `SELECT slot_name, plugin, slot_type, database FROM pg_replication_slots ORDER BY slot_name`,
      ),
      privileges: await query(
        `SELECT table_name, privilege_type FROM information_schema.role_table_grants
         WHERE grantee = 'cdc_connector' ORDER BY table_name, privilege_type`,
      ),
    });
    const first = await snapshot();
    await applySourceSetup(admin, { rolePassword: "local-secret" });
    const second = await snapshot();
    expect(second).toEqual(first);

    expect(first.tables).toEqual([
      { t: "commerce.cdc_heartbeat" },
      { t: "commerce.cdc_signal" },
      { t: "commerce.products" },
      { t: "commerce.users" },
    ]);
    expect(first.role).toEqual([{ rolcanlogin: true, rolreplication: true, rolsuper: false }]);
    expect(first.publication).toEqual([
      { t: "commerce.cdc_heartbeat" },
      { t: "commerce.cdc_signal" },
      { t: "commerce.products" },
      { t: "commerce.users" },
    ]);
    expect(first.slots).toEqual([
      { slot_name: "cdc_slot", plugin: "pgoutput", slot_type: "logical", database: "postgres" },
    ]);
    expect(first.privileges).toEqual([
      { table_name: "cdc_heartbeat", privilege_type: "INSERT" },
      { table_name: "cdc_heartbeat", privilege_type: "SELECT" },
      { table_name: "cdc_heartbeat", privilege_type: "UPDATE" },
      { table_name: "cdc_signal", privilege_type: "INSERT" },
      { table_name: "cdc_signal", privilege_type: "SELECT" },
      { table_name: "products", privilege_type: "SELECT" },
      { table_name: "users", privilege_type: "SELECT" },
    ]);
    expect(
      first.columns.filter((c) => c.table_name === "products").map((c) => [c.column_name, c.data_type]),
    ).toEqual([
      ["id", "bigint"],
      ["sku", "text"],
      ["name", "text"],
      ["description", "text"],
      ["price", "numeric"],
      ["attributes", "jsonb"],
      ["in_stock", "boolean"],
      ["created_at", "timestamp with time zone"],
      ["updated_at", "timestamp without time zone"],
      ["available_from", "date"],
      ["external_id", "uuid"],
    ]);
  });

  it("lets the CDC role log in, read the tables, run the heartbeat query and open a replication stream", async () => {
    const url = new URL(server.connectionString);
    url.username = "cdc_connector";
    url.password = "local-secret";
    const cdc = new pg.Client(url.toString());
    await cdc.connect();
    try {
      await admin.query(`INSERT INTO commerce.products (sku, name, price) VALUES ('SKU-1', 'Lamp', 12.50)`);
      expect((await cdc.query("SELECT sku, price FROM commerce.products")).rows).toEqual([
        { sku: "SKU-1", price: "12.50" },
      ]);
      await cdc.query(heartbeatActionQuery("commerce.cdc_heartbeat"));
      await cdc.query(heartbeatActionQuery("commerce.cdc_heartbeat"));
      expect((await cdc.query("SELECT count(*)::int AS n FROM commerce.cdc_heartbeat")).rows).toEqual([
        { n: 1 },
      ]);
      await expect(cdc.query("DELETE FROM commerce.products")).rejects.toThrow(/permission denied/);
      await expect(cdc.query("INSERT INTO commerce.users (email, name) VALUES ('a@b', 'A')")).rejects.toThrow(
        /permission denied/,
      );
      // The slot streams the published changes (pgoutput) to the CDC role.
      const changes = await cdc.query(
        `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes('cdc_slot', NULL, NULL,
           'proto_version', '1', 'publication_names', 'cdc_publication')`,
      );
      expect(changes.rows[0].n).toBeGreaterThan(0);
    } finally {
      await cdc.end();
    }
  });

  it("converges a publication that drifted", async () => {
    await admin.query("ALTER PUBLICATION cdc_publication DROP TABLE commerce.users");
    await applySourceSetup(admin);
    expect(
      await query(`SELECT tablename FROM pg_publication_tables WHERE pubname = 'cdc_publication' ORDER BY 1`),
    ).toEqual([
      { tablename: "cdc_heartbeat" },
      { tablename: "cdc_signal" },
      { tablename: "products" },
      { tablename: "users" },
    ]);
  });

  it("refuses a slot of the same name with another plugin, naming it", async () => {
    await admin.query(`SELECT pg_create_logical_replication_slot('other_slot', 'test_decoding')`);
    await expect(applySourceSetup(admin, { slotName: "other_slot" })).rejects.toThrow(
      /replication slot "other_slot" exists but is not a pgoutput slot .*plugin test_decoding/,
    );
    await admin.query(`SELECT pg_drop_replication_slot('other_slot')`);
  });

  it("rolls back everything when a statement fails", async () => {
    // A view where the heartbeat table should be: CREATE TABLE IF NOT EXISTS skips it, the grant
    // succeeds, and the publication refuses it; nothing of the run may remain.
    await admin.query("CREATE SCHEMA IF NOT EXISTS ops");
    await admin.query("CREATE VIEW ops.beat AS SELECT 1 AS id");
    const error = await applySourceSetup(admin, {
      heartbeatTable: "ops.beat",
      publicationName: "other_pub",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceSetupError);
    expect((error as Error).message).toMatch(/^source setup failed at: DO \$\$ BEGIN: .*"beat"/);
    expect(await query(`SELECT pubname FROM pg_publication WHERE pubname = 'other_pub'`)).toEqual([]);
    expect(
      await query(`SELECT privilege_type FROM information_schema.role_table_grants
                   WHERE grantee = 'cdc_connector' AND table_schema = 'ops'`),
    ).toEqual([]);
  });

  it("refuses a server without wal_level=logical", async () => {
    const fake = { query: async () => ({ rows: [{ wal_level: "replica" }] }) } as unknown as pg.Client;
    await expect(applySourceSetup(fake)).rejects.toThrow(
      /wal_level is "replica": logical decoding needs wal_level=logical/,
    );
  });
});
