import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../../../local/postgres";

describe("startEmbeddedPostgres", () => {
  const root = mkdtempSync(join(tmpdir(), "cdc-pg-"));
  // As root the server runs as OS user "postgres", which must be able to reach the data dir.
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("starts a logical-replication server, stops it and reuses the data directory", async () => {
    const dataDir = join(root, "data");
    const first = await startEmbeddedPostgres({ dataDir });
    const client = new pg.Client(first.connectionString);
    await client.connect();
    const settings = await client.query(
      "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level','max_replication_slots','max_wal_senders') ORDER BY name",
    );
    expect(settings.rows).toEqual([
      { name: "max_replication_slots", setting: "16" },
      { name: "max_wal_senders", setting: "16" },
      { name: "wal_level", setting: "logical" },
    ]);
    const user = await client.query("SELECT current_user");
    expect(user.rows[0]).toEqual({ current_user: "postgres" });
    await client.query("CREATE TABLE kept (id int)");
    await client.end();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir });
    const again = new pg.Client(second.connectionString);
    await again.connect();
    const kept = await again.query("SELECT to_regclass('public.kept')::text AS t");
    expect(kept.rows[0]).toEqual({ t: "kept" });
    await again.end();
    await second.stop();
  });

  it("refuses a non-empty directory that is not a cluster", async () => {
    const dataDir = join(root, "junk");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "notes.txt"), "mine");
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/is not a PostgreSQL data directory/);
  });
});
