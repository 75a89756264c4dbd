/**
 * `cdc-resnapshot` against the local runtime: the request goes through the signalling table, the command
 * exits 0 once the runtime's offsets show the snapshot done, and by then every row is in the bucket as a read.
 * Also: an incremental snapshot interrupted by a stop resumes after the last row emitted, and bad options.
 */
import { describe, expect, it } from "vitest";
import { createTableSql, sourceSetup } from "../../../connectors/database";
import { captureSetup, readParquet, runtimeFor, topicFiles, useHarness } from "../local/harness";
import { runResnapshot as runCli } from "./run-cli";

const SIGNALS = "public.cdc_signal";

describe("cdc-resnapshot with the local runtime", () => {
  const h = useHarness();

  async function itemsCapture(table: string, rows: number, chunk: number) {
    await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
    await h.db.query(`INSERT INTO ${table} SELECT i, i FROM generate_series(1, ${rows}) i`);
    await h.db.query(createTableSql(sourceSetup({ signalTable: SIGNALS }).signalTable));
    return captureSetup(h, [table, SIGNALS], {
      source: {
        "table.include.list": table,
        "snapshot.mode": "no_data",
        "signal.data.collection": SIGNALS,
        "incremental.snapshot.chunk.size": String(chunk),
      },
      sink: { topics: `cdc.${table}`, "flush.size": "1" },
    });
  }

  it("requests the snapshot, waits for it, and reports it done", async () => {
    const setup = await itemsCapture("public.items", 25, 4);
    const runtime = await runtimeFor(setup);
    try {
      const result = await runCli([
        "--table",
        "public.items",
        "--signal-table",
        SIGNALS,
        "--connector",
        setup.source.name!,
        "--bucket-root",
        setup.bucketRoot,
        "--database-url",
        h.pg.connectionString,
        "--timeout",
        "60",
      ]);
      expect(result.stderr).toContain("cdc-resnapshot: done");
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({ tables: ["public.items"], status: "done" });
      expect(report.id).toMatch(/^[0-9a-f-]{36}$/);
      // Done means durable: every row is already in the bucket as a read, in key order.
      const { rows } = await readParquet(topicFiles(setup.bucketRoot, "cdc.public.items"), "__op, id, n");
      expect(rows).toEqual(Array.from({ length: 25 }, (_, i) => ({ __op: "r", id: i + 1, n: i + 1 })));
    } finally {
      await runtime.stop();
    }
  }, 120_000);

  it("resumes an interrupted incremental snapshot after the last row emitted", async () => {
    const setup = await itemsCapture("public.resumed", 300, 3);
    let runtime = await runtimeFor(setup);
    await h.db.query(
      `INSERT INTO ${SIGNALS} VALUES ('r1', 'execute-snapshot', '{"data-collections": ["public.resumed"]}')`,
    );
    const files = () => topicFiles(setup.bucketRoot, "cdc.public.resumed").length;
    while (files() < 10) await new Promise((r) => setTimeout(r, 20));
    await runtime.stop();
    const before = (await readParquet(topicFiles(setup.bucketRoot, "cdc.public.resumed"), "id")).rows.length;
    expect(before).toBeLessThan(300);
    runtime = await runtimeFor(setup);
    try {
      const deadline = Date.now() + 60_000;
      while (files() < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await runtime.flush();
      const { rows } = await readParquet(topicFiles(setup.bucketRoot, "cdc.public.resumed"), "__op, id");
      // Every row once, in key order: the restart read on from the last key in a durable file.
      expect(rows).toEqual(Array.from({ length: 300 }, (_, i) => ({ __op: "r", id: i + 1 })));
    } finally {
      await runtime.stop();
    }
  }, 120_000);

  it("a lost slot: the runtime refuses to stream on; --recover-slot re-creates it and re-snapshots", async () => {
    const setup = await itemsCapture("public.lost", 6, 4);
    let runtime = await runtimeFor({ ...setup, source: { ...setup.source, "snapshot.mode": "initial" } });
    await runtime.stop();
    // While nothing streams: changes, then the slot goes (dropped by hand, or invalidated).
    await h.db.query("UPDATE public.lost SET n = 100 WHERE id = 2");
    await h.db.query("DELETE FROM public.lost WHERE id = 3");
    await h.db.query("INSERT INTO public.lost VALUES (7, 7)");
    await h.db.query(`SELECT pg_drop_replication_slot('${setup.slot}')`);
    await expect(runtimeFor(setup)).rejects.toThrow(
      new RegExp(
        `replication slot "${setup.slot}" does not exist, but the offsets say streaming reached .*cdc-resnapshot --recover-slot`,
      ),
    );
    // Re-created by hand (what a setup re-run does): still refused, the changes in between are not in it.
    await h.db.query(`SELECT pg_create_logical_replication_slot('${setup.slot}', 'pgoutput')`);
    await expect(runtimeFor(setup)).rejects.toThrow(
      /starts at .*, after the stored offset .*: the changes in between/,
    );
    await h.db.query(`SELECT pg_drop_replication_slot('${setup.slot}')`);

    const recovery = runCli([
      "--recover-slot",
      "--slot",
      setup.slot,
      "--table",
      "public.lost",
      "--signal-table",
      SIGNALS,
      "--connector",
      setup.source.name!,
      "--bucket-root",
      setup.bucketRoot,
      "--database-url",
      h.pg.connectionString,
      "--timeout",
      "60",
    ]);
    // The command re-creates the slot and moves the offsets, then waits for the runtime to do the snapshot.
    const slotBack = async () =>
      (await h.db.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [setup.slot])).rowCount ===
      1;
    while (!(await slotBack())) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    runtime = await runtimeFor(setup);
    try {
      const result = await recovery;
      expect(result.stderr).toContain(`slot ${setup.slot} created`);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as {
        slotRecovery: { slotAction: string };
        reconcile: boolean;
      };
      expect(report).toMatchObject({
        status: "done",
        reconcile: true,
        slotRecovery: { slotAction: "created" },
      });
      const { rows } = await readParquet(topicFiles(setup.bucketRoot, "cdc.public.lost"), "__op, id, n");
      // The initial snapshot, then the re-snapshot of what PostgreSQL holds now: no event for the gap's
      // changes (their WAL went with the slot); 3 is simply absent from the second snapshot.
      expect(rows).toEqual([
        ...[1, 2, 3, 4, 5, 6].map((id) => ({ __op: "r", id, n: id })),
        ...[
          [1, 1],
          [2, 100],
          [4, 4],
          [5, 5],
          [6, 6],
          [7, 7],
        ].map(([id, n]) => ({ __op: "r", id, n })),
      ]);
    } finally {
      await runtime.stop();
    }
  }, 120_000);

  it.each([
    [["--bucket-root", "/tmp/x"], "--table: name at least one table"],
    [["--table", "items", "--bucket-root", "/tmp/x"], '"items" is not a schema.table name'],
    [["--table", "public.items"], "give exactly one of --bucket-root"],
    [
      ["--table", "public.items", "--bucket-root", "/tmp/x", "--connect-url", "http://c:8083"],
      "give exactly one of --bucket-root",
    ],
    [
      ["--table", "public.items", "--no-wait", "--recover-slot"],
      "--recover-slot: needs --bucket-root (the local runtime) or --connect-url (Debezium on Kafka Connect)",
    ],
    [
      ["--table", "public.items", "--no-wait", "--connector", "../../elsewhere", "--bucket-root", "/tmp/x"],
      '--connector: must not contain "/" or control characters with --bucket-root: the local runtime names its offset file after it',
    ],
  ])("bad options %j exit 2 naming the option", async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
  });
});
