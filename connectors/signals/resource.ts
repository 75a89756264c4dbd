/**
 * NewTableSnapshots: when `pulumi up` adds tables to the captured list, asks the source connector for an
 * incremental snapshot of those tables alone (an execute-snapshot row in the signalling table). It must depend
 * on the source connector resource: the connector's update returns once its task runs the new
 * `table.include.list`, so the request, later in the WAL, is read by a task that captures the new tables
 * (a task still on the old list would skip them as unknown). The first deploy requests nothing: the
 * connector's initial snapshot reads every table. Removing a table requests nothing either.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as Pg from "pg";
// The module itself, not connectors/database's index: the provider is serialized, and the index would bring
// the table definitions (objects with a `default` key, which Pulumi's closure serializer mistakes for modules).
import { connectionProblem, type DatabaseConnection } from "../database/connection";
import { nodePostgresSsl } from "../database/tls";
import { requestSnapshot } from "./request";

export interface NewTableSnapshotsInputs {
  /** A role with INSERT on the signalling table. */
  connection: DatabaseConnection;
  /** `signal.data.collection` of the source connector. */
  signalTable: string;
  /** The captured tables (`schema.table`), as in the source connector's `table.include.list`. */
  tables: string[];
}

/** Kept in the state: never the connection (it holds the password). */
export interface NewTableSnapshotsOutputs {
  signalTable: string;
  tables: string[];
  /** The last request this resource inserted, if any. */
  lastRequest?: { id: string; tables: string[] };
}

/** Tables in `news` and not in `olds`, in `news` order. */
export function addedTables(olds: readonly string[], news: readonly string[]): string[] {
  return news.filter((t) => !olds.includes(t));
}

async function insertRequest(
  inputs: NewTableSnapshotsInputs,
  tables: string[],
): Promise<{ id: string; tables: string[] }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require("pg") as typeof Pg;
  const { sslMode, caBundle, ...connection } = inputs.connection;
  const where = `${connection.host}:${connection.port}/${connection.database}`;
  let client: Pg.Client | undefined;
  try {
    client = new Client({ ...connection, ssl: nodePostgresSsl(sslMode, caBundle) });
    await client.connect();
    const request = await requestSnapshot(client, inputs.signalTable, tables);
    return { id: request.id, tables };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot request a snapshot of ${tables.join(", ")} through ${inputs.signalTable} on ${where}: ${reason}`,
    );
  } finally {
    await client?.end().catch(() => undefined);
  }
}

export const newTableSnapshotsProvider: pulumi.dynamic.ResourceProvider<
  NewTableSnapshotsInputs,
  NewTableSnapshotsOutputs
> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!Array.isArray(news.tables) || news.tables.length === 0)
      failures.push({ property: "tables", reason: "must list at least one table" });
    if (typeof news.signalTable !== "string" || news.signalTable.split(".").length !== 2)
      failures.push({ property: "signalTable", reason: "must be schema.table" });
    const problem = connectionProblem(news.connection);
    if (problem) failures.push({ property: "connection", reason: problem });
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    const changes =
      olds.signalTable !== news.signalTable || JSON.stringify(olds.tables) !== JSON.stringify(news.tables);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    return {
      id: `${inputs.connection.host}/${inputs.connection.database}/${inputs.signalTable}`,
      outs: { signalTable: inputs.signalTable, tables: inputs.tables },
    };
  },
  async update(_id, olds, news) {
    const added = addedTables(olds.tables, news.tables);
    const lastRequest = added.length > 0 ? await insertRequest(news, added) : olds.lastRequest;
    return {
      outs: { signalTable: news.signalTable, tables: news.tables, ...(lastRequest ? { lastRequest } : {}) },
    };
  },
  async delete() {
    // Nothing to undo: a request already read is history, and the signalling table is not this resource's.
  },
};

export interface NewTableSnapshotsArgs {
  /** Where to insert requests (the stack's admin connection). Required; kept as a secret in the state. */
  connection: pulumi.Input<DatabaseConnection>;
  /** `signal.data.collection`. Required (`PIPELINE_DEFAULTS.signalTable` in this stack). */
  signalTable: pulumi.Input<string>;
  /** The captured tables, the list `table.include.list` is built from. Required. */
  tables: pulumi.Input<pulumi.Input<string>[]>;
}

export class NewTableSnapshots extends pulumi.dynamic.Resource {
  declare readonly tables: pulumi.Output<string[]>;
  declare readonly lastRequest: pulumi.Output<{ id: string; tables: string[] } | undefined>;

  constructor(name: string, args: NewTableSnapshotsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      newTableSnapshotsProvider,
      name,
      {
        connection: pulumi.secret(args.connection),
        signalTable: args.signalTable,
        tables: args.tables,
        lastRequest: undefined,
      },
      opts,
      "signals",
      "NewTableSnapshots",
    );
  }
}
