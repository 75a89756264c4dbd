/**
 * The job's Glue calls: per SCD2 table, GetTable on the table the stack declared, UpdateTable with the
 * columns the files gained (plan.ts), then the two Athena views written again over the table's columns
 * when their stored text differs. Only glue:GetTable and glue:UpdateTable, the rights the stack gives
 * the SCD2 task on its own database's tables. A table already in step is not written (no new version).
 */
import {
  GetTableCommand,
  GlueClient,
  UpdateTableCommand,
  type GlueClientConfig,
  type Table,
  type TableInput,
} from "@aws-sdk/client-glue";
import { messageOf } from "../errors";
import { planColumns, viewTexts, type FileColumn } from "./plan";
import type { GlueColumn } from "../../../common/catalog";

/**
 * The Glue client: region and credentials from the SDK's default chain (AWS_REGION, the ECS task role,
 * ...), the endpoint from AWS_ENDPOINT_URL_GLUE or AWS_ENDPOINT_URL when set (the SDK reads them).
 */
export function glueClientFromEnvironment(env: NodeJS.ProcessEnv = process.env): GlueClient {
  // A Glue that stops answering fails the step (after the SDK's retries) instead of hanging the run.
  const config: GlueClientConfig = { requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 } };
  if (!env.AWS_REGION && env.AWS_DEFAULT_REGION) config.region = env.AWS_DEFAULT_REGION;
  return new GlueClient(config);
}

/** What the job did to one table's catalog entries. */
export interface TableCatalogResult {
  /** `commerce.products`. */
  readonly table: string;
  /** The Glue table, `<database>.<name>`. */
  readonly glueTable: string;
  /** Columns added to the Glue table, in order; empty when it already had every column. */
  readonly added: string[];
  /** Views written again (`products_current`, ...). */
  readonly views: string[];
  /** What could not be done, each naming the table or column (a failed Glue call, a type conflict). */
  readonly problems: string[];
}

/** The fields of a Table that UpdateTable takes back (the rest are Glue's own: times, ids, ...). */
function tableInputOf(table: Table): TableInput {
  const { Name, Description, Owner, Retention, StorageDescriptor, PartitionKeys, TableType } = table;
  const { ViewOriginalText, ViewExpandedText, Parameters, TargetTable } = table;
  return {
    Name,
    Description,
    Owner,
    Retention,
    StorageDescriptor,
    PartitionKeys,
    TableType,
    ViewOriginalText,
    ViewExpandedText,
    Parameters,
    TargetTable,
  };
}

const glueColumnsOf = (table: Table): GlueColumn[] =>
  (table.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name ?? "", glueType: c.Type ?? "" }));

const toGlue = (columns: readonly GlueColumn[]) => columns.map((c) => ({ Name: c.name, Type: c.glueType }));

/** The HTTP status of a failed SDK call, also when the SDK could not parse the error body. */
function httpStatusOf(error: unknown): number | undefined {
  const e = error as { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
  return e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
}

/** Runs one Glue call; a failure names the action, the Glue table, the HTTP status and the SDK's error. */
async function call<T>(action: string, glueTable: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const status = httpStatusOf(error);
    const name = error instanceof Error && error.name !== "Error" ? `${error.name}: ` : "";
    // The SDK appends a hint about its hidden $response field to errors it could not parse.
    const message = messageOf(error).split("\n")[0];
    throw new Error(
      `glue:${action} on ${glueTable} failed${status ? ` (HTTP ${status})` : ""}: ${name}${message}`,
    );
  }
}

/**
 * Brings the Glue table `<database>.<name>` of the SCD2 table `table` (whose files have `columns`) and
 * its two views up to date. Never throws: what failed is in the result's `problems`, and the calls
 * after it are not made.
 */
export async function syncTable(
  client: GlueClient,
  database: string,
  table: string,
  columns: readonly FileColumn[],
): Promise<TableCatalogResult> {
  const name = table.slice(table.indexOf(".") + 1);
  const glueTable = `${database}.${name}`;
  const result = { table, glueTable, added: [] as string[], views: [] as string[], problems: [] as string[] };
  const get = async (tableName: string): Promise<Table> => {
    const found = await call("GetTable", `${database}.${tableName}`, () =>
      client.send(new GetTableCommand({ DatabaseName: database, Name: tableName })),
    );
    if (!found.Table) throw new Error(`glue:GetTable on ${database}.${tableName} returned no table`);
    return found.Table;
  };
  const update = (current: Table, input: TableInput) =>
    call("UpdateTable", `${database}.${input.Name}`, () =>
      client.send(
        // VersionId: Glue refuses the update if the table changed since it was read (another writer).
        new UpdateTableCommand({ DatabaseName: database, TableInput: input, VersionId: current.VersionId }),
      ),
    );
  try {
    const base = await get(name);
    const plan = planColumns(table, glueColumnsOf(base), columns);
    result.problems.push(...plan.problems);
    if (plan.added.length > 0) {
      const input = tableInputOf(base);
      await update(base, {
        ...input,
        StorageDescriptor: { ...input.StorageDescriptor, Columns: toGlue(plan.columns) },
      });
      result.added.push(...plan.added);
    }
    for (const view of viewTexts(database, name, plan.columns)) {
      const current = await get(view.name);
      if (current.ViewOriginalText === view.text) continue;
      const input = tableInputOf(current);
      await update(current, {
        ...input,
        ViewOriginalText: view.text,
        StorageDescriptor: { ...input.StorageDescriptor, Columns: toGlue(plan.columns) },
      });
      result.views.push(view.name);
    }
  } catch (error) {
    result.problems.push(`${table}: ${messageOf(error)}`);
  }
  return result;
}
