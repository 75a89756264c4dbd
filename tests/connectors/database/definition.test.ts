import { describe, expect, it } from "vitest";
import { heartbeatActionQuery, PIPELINE_DEFAULTS } from "../../../connectors/config";
import {
  createSlotSql,
  grantSql,
  publicationSql,
  roleSql,
  sourceSetup,
  sourceSetupStatements,
} from "../../../connectors/database";
import { settingsError } from "../config/settings-error";

describe("sourceSetup", () => {
  it("defines the standard objects from the pipeline defaults", () => {
    const setup = sourceSetup();
    expect(setup.schemas).toEqual(["commerce"]);
    expect(setup.tables.map((t) => t.qualifiedName)).toEqual(PIPELINE_DEFAULTS.tables);
    expect(setup.heartbeatTable.qualifiedName).toBe(PIPELINE_DEFAULTS.heartbeatTable);
    expect(setup.signalTable.qualifiedName).toBe(PIPELINE_DEFAULTS.signalTable);
    expect(setup.role).toEqual({ name: "cdc_connector", login: true, replication: true, memberOf: [] });
    expect(setup.grants).toEqual([
      { role: "cdc_connector", schema: "commerce", objectType: "schema", objects: [], privileges: ["USAGE"] },
      {
        role: "cdc_connector",
        schema: "commerce",
        objectType: "table",
        objects: ["products", "users"],
        privileges: ["SELECT"],
      },
      {
        role: "cdc_connector",
        schema: "commerce",
        objectType: "table",
        objects: ["cdc_heartbeat"],
        privileges: ["INSERT", "SELECT", "UPDATE"],
      },
      {
        role: "cdc_connector",
        schema: "commerce",
        objectType: "table",
        objects: ["cdc_signal"],
        privileges: ["INSERT", "SELECT"],
      },
    ]);
    expect(setup.publication).toEqual({
      name: "cdc_publication",
      tables: ["commerce.products", "commerce.users", "commerce.cdc_heartbeat", "commerce.cdc_signal"],
    });
    expect(setup.slot).toEqual({ name: "cdc_slot", plugin: "pgoutput" });
  });

  it("defines Debezium's signalling table as its documentation does, in the publication, insertable by the role", () => {
    const ddl = sourceSetupStatements(sourceSetup()).find((sql) => sql.includes('"cdc_signal" ('));
    expect(ddl).toBe(`CREATE TABLE IF NOT EXISTS "commerce"."cdc_signal" (
  "id" varchar(42) NOT NULL,
  "type" varchar(32) NOT NULL,
  "data" varchar(2048),
  PRIMARY KEY ("id")
)`);
    const setup = sourceSetup({ signalTable: "ops.signals" });
    expect(setup.schemas).toEqual(["commerce", "ops"]);
    expect(setup.publication.tables).toContain("ops.signals");
    expect(setup.grants.at(-1)).toEqual({
      role: "cdc_connector",
      schema: "ops",
      objectType: "table",
      objects: ["signals"],
      privileges: ["INSERT", "SELECT"],
    });
  });

  it("uses rds_replication instead of the REPLICATION attribute on RDS", () => {
    const { role } = sourceSetup({ target: "rds" });
    expect(role).toEqual({
      name: "cdc_connector",
      login: true,
      replication: false,
      memberOf: ["rds_replication"],
    });
    expect(roleSql(role)).toEqual([
      expect.stringContaining(`CREATE ROLE "cdc_connector"`),
      `ALTER ROLE "cdc_connector" WITH LOGIN NOREPLICATION`,
      `GRANT "rds_replication" TO "cdc_connector"`,
    ]);
  });

  it("puts a heartbeat table of another schema in the schema list, grants and publication", () => {
    const setup = sourceSetup({ heartbeatTable: "cdc.heartbeat" });
    expect(setup.schemas).toEqual(["commerce", "cdc"]);
    expect(setup.grants.filter((g) => g.objectType === "schema").map((g) => g.schema)).toEqual([
      "commerce",
      "cdc",
    ]);
    expect(setup.publication.tables).toContain("cdc.heartbeat");
  });

  it("sets REPLICA IDENTITY FULL on the captured tables when asked", () => {
    const statements = sourceSetupStatements(sourceSetup({ replicaIdentity: "full" }));
    expect(statements.filter((s) => s.includes("REPLICA IDENTITY"))).toEqual([
      `ALTER TABLE "commerce"."products" REPLICA IDENTITY FULL`,
      `ALTER TABLE "commerce"."users" REPLICA IDENTITY FULL`,
    ]);
  });

  it.each([
    [{ roleName: "CDC" }, "roleName"],
    [{ slotName: "slot-1" }, "slotName"],
    [{ heartbeatTable: "heartbeat" }, "heartbeatTable"],
    [{ target: "aurora" }, "target"],
    [{ replicaIdentity: "nothing" }, "replicaIdentity"],
  ])("rejects %j naming the field", (settings, path) => {
    expect(settingsError(sourceSetup, settings).issues.map((i) => i.path)).toEqual([path]);
  });
});

describe("SQL builders", () => {
  it("builds the publication with create-or-set semantics", () => {
    expect(publicationSql({ name: "p", tables: ["a.b", "c.d"] })).toMatchInlineSnapshot(`
      "DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'p') THEN
          CREATE PUBLICATION "p" FOR TABLE "a"."b", "c"."d";
        ELSE
          ALTER PUBLICATION "p" SET TABLE "a"."b", "c"."d";
        END IF;
      END $$"
    `);
  });

  it("quotes identifiers and literals", () => {
    expect(
      grantSql({ role: 'x"y', schema: "s", objectType: "table", objects: ["t"], privileges: ["SELECT"] }),
    ).toBe(`GRANT SELECT ON TABLE "s"."t" TO "x""y"`);
    expect(roleSql({ name: "r", login: true, replication: true, memberOf: [] }, "it's")[1]).toBe(
      `ALTER ROLE "r" WITH LOGIN REPLICATION PASSWORD 'it''s'`,
    );
    expect(createSlotSql({ name: "s", plugin: "pgoutput" })).toContain(
      `pg_create_logical_replication_slot('s', 'pgoutput')`,
    );
  });

  it("creates the tables the heartbeat action query writes to", () => {
    const ddl = sourceSetupStatements(sourceSetup()).find((s) => s.includes('"cdc_heartbeat" ('));
    expect(ddl).toBe(`CREATE TABLE IF NOT EXISTS "commerce"."cdc_heartbeat" (
  "id" integer NOT NULL,
  "beat_at" timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY ("id")
)`);
    expect(heartbeatActionQuery("commerce.cdc_heartbeat")).toContain(
      "INSERT INTO commerce.cdc_heartbeat (id, beat_at)",
    );
  });
});
