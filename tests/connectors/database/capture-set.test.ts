// The publication decides which tables' changes reach Debezium; `table.include.list` decides which
// it turns into topics. Both come from PIPELINE_DEFAULTS.tables: the publication holds exactly the
// captured tables plus the tables the setup creates for the connector itself (heartbeat, and the
// signalling table where there is one), none of which the connector captures.
import { describe, expect, it } from "vitest";
import { buildSourceConnector, PIPELINE_DEFAULTS } from "../../../connectors/config";
import {
  createTableSql,
  quoteQualified,
  sourceSetup,
  sourceSetupStatements,
} from "../../../connectors/database";

describe("the publication and the source connector's table.include.list", () => {
  const setup = sourceSetup({ target: "rds" });
  const captured = String(
    buildSourceConnector({ database: { hostname: "db.internal", dbname: "app", password: "${env:PW}" } })
      .config["table.include.list"],
  ).split(",");

  it("name the same captured tables, in the same order", () => {
    expect(captured).toEqual([...PIPELINE_DEFAULTS.tables]);
    expect(setup.tables.map((t) => t.qualifiedName)).toEqual(captured);
    expect(setup.publication.tables.slice(0, captured.length)).toEqual(captured);
  });

  it("publish nothing else but tables the setup creates for the connector, which it does not capture", () => {
    const extra = setup.publication.tables.slice(captured.length);
    expect(extra[0]).toBe(setup.heartbeatTable.qualifiedName);
    const created = sourceSetupStatements(setup).filter((sql) => sql.startsWith("CREATE TABLE"));
    for (const table of extra) {
      expect(captured).not.toContain(table);
      expect(
        created.filter((sql) => sql.startsWith(`CREATE TABLE IF NOT EXISTS ${quoteQualified(table)} (`)),
      ).toHaveLength(1);
    }
    expect(created).toContain(createTableSql(setup.heartbeatTable));
  });
});
