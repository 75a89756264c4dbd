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
import { requestSnapshot } from "./request";

/** Where to insert the request: a role with INSERT on the signalling table; pass it as a secret. */
export interface SignalConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** TLS to the server (RDS forces it). */
  ssl: boolean;
}

export interface NewTableSnapshotsInputs {
  connection: SignalConnection;
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
  const { ssl, ...connection } = inputs.connection;
  const client = new Client({ ...connection, ssl: ssl ? { rejectUnauthorized: false } : false });
  await client.connect();
  try {
    const request = await requestSnapshot(client, inputs.signalTable, tables);
    return { id: request.id, tables };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot request a snapshot of ${tables.join(", ")} through ${inputs.signalTable}: ${reason}`,
    );
  } finally {
    await client.end();
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
    if (!news.connection?.host)
      failures.push({ property: "connection", reason: "must name the host to connect to" });
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
  /** Where to insert requests; a secret. Required. */
  connection: pulumi.Input<SignalConnection>;
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
      { ...args, lastRequest: undefined },
      opts,
      "signals",
      "NewTableSnapshots",
    );
  }
}
