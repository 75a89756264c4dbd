#!/usr/bin/env node
/**
 * `cdc-resnapshot --table <schema.table> (--bucket-root <dir> | --connect-url <url>)`: asks the source
 * connector for an incremental snapshot of the tables through the signalling table, then waits until its
 * offsets show the snapshot done. Exit 0 done (a JSON line on stdout), 1 failed or timed out, 2 bad options.
 * PostgreSQL: `--database-url`, else the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
 * PGSSLMODE); the role needs INSERT on the signalling table. `--recover-slot` first re-creates a lost slot and
 * moves the connector's offsets to it (docs/day-two.md): the local runtime's file (stopped), or through Kafka
 * Connect's offsets API (the command stops and resumes the connector); it needs a role that may manage slots.
 */
import { resolve } from "node:path";
import { Command } from "commander";
import pg from "pg";
import { z } from "zod";
import { parseCommandLine } from "../../common/cli";
import { PIPELINE_DEFAULTS } from "../config";
import { qualifiedTable } from "../config/validation";
import { connectorNameProblem } from "../local/connector-name";
import { formatLsn } from "../local/lsn";
import { recoverConnectSlot, recoverLocalSlot, type SlotRecovery } from "./recover";
import {
  readConnectOffset,
  readLocalOffset,
  requestSnapshot,
  snapshotProgress,
  type OffsetView,
  type SnapshotProgress,
} from "./request";

const optionsSchema = z
  .strictObject({
    table: z.array(qualifiedTable).min(1, "name at least one table"),
    signalTable: qualifiedTable,
    connector: z.string().min(1, "must not be empty"),
    databaseUrl: z.string().min(1).optional(),
    bucketRoot: z.string().min(1).optional(),
    connectUrl: z.url("must be an http(s) URL").optional(),
    wait: z.boolean(),
    recoverSlot: z.boolean(),
    slot: z.string().min(1, "must not be empty"),
    timeout: z.coerce.number().positive("must be a positive number of seconds"),
  })
  // Checked before anything is done: the offset file is read only after the request is inserted.
  .refine((o) => o.bucketRoot === undefined || connectorNameProblem(o.connector) === undefined, {
    path: ["connector"],
    error:
      'must not contain "/" or control characters with --bucket-root: the local runtime names its offset file after it',
  })
  .refine((o) => !o.recoverSlot || o.bucketRoot !== undefined || o.connectUrl !== undefined, {
    path: ["recover-slot"],
    error: "needs --bucket-root (the local runtime) or --connect-url (Debezium on Kafka Connect)",
  })
  .refine((o) => !o.wait || (o.bucketRoot === undefined) !== (o.connectUrl === undefined), {
    path: ["bucket-root"],
    error:
      "give exactly one of --bucket-root (the local runtime) or --connect-url (Kafka Connect) to wait on, or --no-wait",
  });

type Options = z.output<typeof optionsSchema>;

function parseOptions(argv: string[]): Options {
  const program = new Command("cdc-resnapshot")
    .description(
      "Request an incremental snapshot of tables through Debezium's signalling table and wait for it",
    )
    .option(
      "--table <schema.table>",
      "table to snapshot again (repeatable)",
      (v, all: string[]) => [...all, v],
      [],
    )
    .option("--signal-table <schema.table>", "signal.data.collection", PIPELINE_DEFAULTS.signalTable)
    .option("--connector <name>", "source connector name", PIPELINE_DEFAULTS.sourceConnectorName)
    .option("--database-url <url>", "PostgreSQL connection URL (default: PG* environment variables)")
    .option("--bucket-root <dir>", "the local runtime's bucket root: its offsets tell progress")
    .option("--connect-url <url>", "Kafka Connect REST URL: the connector's offsets tell progress")
    .option("--no-wait", "insert the request and exit")
    .option("--recover-slot", "first re-create a lost slot and move the connector's offsets to it", false)
    .option("--slot <name>", "the replication slot (with --recover-slot)", PIPELINE_DEFAULTS.slotName)
    .option("--timeout <seconds>", "how long to wait for the snapshot", "3600");
  return parseCommandLine(program, argv, "cdc-resnapshot", optionsSchema);
}

function connectAuth(): string | undefined {
  const user = process.env.KAFKA_CONNECT_USER;
  const password = process.env.KAFKA_CONNECT_PASSWORD;
  return user ? `Basic ${Buffer.from(`${user}:${password ?? ""}`).toString("base64")}` : undefined;
}

function offsetReader(o: Options): () => Promise<OffsetView | undefined> {
  if (o.bucketRoot !== undefined) {
    const root = resolve(o.bucketRoot);
    return () => readLocalOffset(root, o.connector);
  }
  return () => readConnectOffset(o.connectUrl!, o.connector, connectAuth());
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const client = new pg.Client(o.databaseUrl ? { connectionString: o.databaseUrl } : {});
  await client.connect();
  let request;
  let recovery: SlotRecovery | undefined;
  try {
    if (o.recoverSlot) {
      recovery =
        o.bucketRoot !== undefined
          ? await recoverLocalSlot(client, {
              slot: o.slot,
              bucketRoot: resolve(o.bucketRoot),
              connector: o.connector,
            })
          : await recoverConnectSlot(client, {
              slot: o.slot,
              connectUrl: o.connectUrl!,
              connector: o.connector,
              authorization: connectAuth(),
            });
      process.stderr.write(
        `cdc-resnapshot: slot ${recovery.slot} ${recovery.slotAction === "none" ? "kept" : recovery.slotAction}; ` +
          `streaming continues at ${recovery.to} (stored offset was ${recovery.from})\n`,
      );
    }
    request = await requestSnapshot(client, o.signalTable, o.table);
  } finally {
    await client.end();
  }
  // After a slot recovery the snapshot is complete for its tables: the SCD2 job reconciles with it.
  const recovered = recovery ? { slotRecovery: recovery, reconcile: true } : {};
  const report = (status: SnapshotProgress, extra: Record<string, unknown> = {}) =>
    `${JSON.stringify({ id: request.id, tables: request.tables, requestedAt: formatLsn(request.before), status, ...recovered, ...extra })}\n`;
  process.stderr.write(`cdc-resnapshot: requested ${request.id} for ${o.table.join(", ")}\n`);
  if (!o.wait) {
    process.stdout.write(report("waiting"));
    return;
  }
  const read = offsetReader(o);
  const started = Date.now();
  let last: SnapshotProgress | undefined;
  for (;;) {
    const offset = await read();
    const progress = snapshotProgress(request, offset);
    if (progress !== last) process.stderr.write(`cdc-resnapshot: ${progress}\n`);
    last = progress;
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    if (progress === "done") {
      process.stdout.write(report("done", { doneAt: formatLsn(offset!.lsn), seconds }));
      return;
    }
    if (seconds > o.timeout)
      throw new Error(`the snapshot of ${o.table.join(", ")} is not done after ${o.timeout} s (${progress})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

main().catch((err: Error) => {
  process.stderr.write(`cdc-resnapshot: ${err.message}\n`);
  process.exit(1);
});
