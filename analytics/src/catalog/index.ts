/**
 * After a committed run, with `--glue-database`: every SCD2 table of the committed manifest gets the
 * columns its files gained in its Glue table, and its Athena views are written again over them
 * (docs/analytics-catalog.md, "Schema changes"). The run's data is committed before this starts; a
 * catalog that could not be brought up to date is reported, and the CLI exits 3.
 */
import type { GlueClient } from "@aws-sdk/client-glue";
import type { Logger } from "pino";
import { messageOf } from "../errors";
import { readManifest, type Manifest } from "../state/manifest";
import type { Storage } from "../storage/storage";
import { syncTable, type TableCatalogResult } from "./glue";
import { fileColumns } from "./plan";

export { glueClientFromEnvironment } from "./glue";
export type { TableCatalogResult } from "./glue";

/**
 * Brings the Glue tables of `database` in step with the SCD2 files under `output` (as its committed
 * manifest lists them). Logs each change and each problem; returns the problems (none: in step).
 */
export async function updateCatalog(
  output: Storage,
  database: string,
  client: GlueClient,
  logger: Logger,
): Promise<string[]> {
  let manifest: Manifest | undefined;
  try {
    manifest = await readManifest(output);
  } catch (error) {
    const problem = `could not read the committed manifest: ${messageOf(error)}`;
    logger.error({ event: "catalog-failed", database, problems: [problem] }, catalogFailed([problem]));
    return [problem];
  }
  const results: TableCatalogResult[] = [];
  const tables = Object.entries(manifest?.tables ?? {}).sort(([a], [b]) => a.localeCompare(b));
  for (const [table, state] of tables)
    results.push(await syncTable(client, database, table, fileColumns(state.columns)));
  for (const r of results) {
    if (r.added.length === 0 && r.views.length === 0) continue;
    logger.info(
      { event: "catalog-updated", table: r.table, glueTable: r.glueTable, added: r.added, views: r.views },
      `${r.glueTable}: ${r.added.length > 0 ? `columns added: ${r.added.join(", ")}; ` : ""}views written: ${r.views.join(", ") || "none"}`,
    );
  }
  const problems = results.flatMap((r) => r.problems);
  if (problems.length > 0)
    logger.error({ event: "catalog-failed", database, problems }, catalogFailed(problems));
  return problems;
}

const catalogFailed = (problems: readonly string[]): string =>
  `the run's data is committed, but the Glue catalog is not up to date: ${problems.join("; ")}`;
