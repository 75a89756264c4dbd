// The views file's text for a directory and for S3, and writeViews' edge cases. The views' results
// over a real job run are in tests/analytics/views.test.ts.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DirectoryStorage } from "../../analytics/src/storage";
import { viewsSql, writeViews } from "../../analytics/src/views";

describe("viewsSql", () => {
  it("on S3 loads httpfs and takes credentials from the AWS chain, and says how to open it", () => {
    const text = viewsSql("s3://bucket/scd2", ["commerce.users"]);
    expect(text.split("\n").slice(0, 5)).toEqual([
      "-- SCD2 views over s3://bucket/scd2, rewritten by cdc-scd2 after each run. Open them with:",
      "--   duckdb -init <(aws s3 cp s3://bucket/scd2/views.sql -)",
      "INSTALL httpfs; LOAD httpfs; INSTALL aws; LOAD aws;",
      "-- Credentials and region from the AWS credential chain (environment, profile, SSO, instance role).",
      "CREATE SECRET IF NOT EXISTS cdc_scd2_s3 (TYPE s3, PROVIDER credential_chain);",
    ]);
    expect(text).toContain(
      `CREATE OR REPLACE VIEW "users_current" AS SELECT * FROM read_parquet('s3://bucket/scd2/users/current/*.parquet', hive_partitioning = false);`,
    );
  });

  it("quotes paths and names, and lists tables in name order", () => {
    const text = viewsSql("/data/it's here", ["shop.zeta", "shop.alpha"]);
    expect(text).toContain(`read_parquet('/data/it''s here/alpha/*/*.parquet'`);
    expect(text.indexOf('"alpha_history"')).toBeLessThan(text.indexOf('"zeta_history"'));
    expect(text).not.toContain("httpfs");
  });
});

describe("writeViews", () => {
  const root = mkdtempSync(join(tmpdir(), "views-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("writes nothing while there is no table", async () => {
    await writeViews(new DirectoryStorage(root), []);
    expect(readdirSync(root)).toEqual([]);
  });
});
