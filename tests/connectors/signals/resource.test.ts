/**
 * NewTableSnapshots' provider on a real PostgreSQL, and the path it serves with the local runtime: a table is
 * added to a running capture (publication, then the connector restarted on the longer table.include.list, then
 * the request): its rows arrive as reads, the other table streams on without a gap or a duplicate.
 */
import { describe, expect, it } from "vitest";
import { createTableSql, sourceSetup } from "../../../connectors/database";
import {
  addedTables,
  newTableSnapshotsProvider as provider,
  type NewTableSnapshotsInputs,
  type NewTableSnapshotsOutputs,
} from "../../../connectors/signals/resource";
import { captureSetup, readParquet, runtimeFor, topicFiles, useHarness } from "../local/harness";

const SIGNALS = "public.cdc_signal";

describe("addedTables", () => {
  it.each([
    [["a.x"], ["a.x", "a.y"], ["a.y"]],
    [["a.x", "a.y"], ["a.y", "a.x"], []],
    [["a.x", "a.y"], ["a.x"], []],
    [["a.x"], ["a.z", "a.x", "a.y"], ["a.z", "a.y"]],
  ])("%j → %j: %j", (olds, news, added) => {
    expect(addedTables(olds, news)).toEqual(added);
  });
});

describe("NewTableSnapshots", () => {
  const h = useHarness();
  const inputs = (tables: string[]): NewTableSnapshotsInputs => ({
    connection: {
      host: "127.0.0.1",
      port: h.pg.port,
      database: "postgres",
      user: "postgres",
      password: new URL(h.pg.connectionString).password,
      ssl: false,
    },
    signalTable: SIGNALS,
    tables,
  });
  const requests = async () =>
    (
      await h.db.query<{ type: string; data: string }>(
        `SELECT type, data FROM ${SIGNALS} WHERE type = 'execute-snapshot'`,
      )
    ).rows;

  it("requests nothing on create, a snapshot of the added tables alone on update", async () => {
    await h.db.query(createTableSql(sourceSetup({ signalTable: SIGNALS }).signalTable));
    const created = await provider.create(inputs(["public.a"]));
    expect(created.outs).toEqual({ signalTable: SIGNALS, tables: ["public.a"] });
    expect(await requests()).toEqual([]);

    const olds = created.outs as NewTableSnapshotsOutputs;
    expect((await provider.diff!(created.id, olds, inputs(["public.a"]))).changes).toBe(false);
    expect((await provider.diff!(created.id, olds, inputs(["public.a", "public.b"]))).changes).toBe(true);
    const updated = await provider.update!(created.id, olds, inputs(["public.a", "public.b", "public.c"]));
    expect(updated.outs).toMatchObject({
      tables: ["public.a", "public.b", "public.c"],
      lastRequest: { tables: ["public.b", "public.c"] },
    });
    expect(await requests()).toEqual([
      { type: "execute-snapshot", data: '{"data-collections":["public.b","public.c"],"type":"incremental"}' },
    ]);
    // A removal requests nothing.
    await provider.update!(created.id, updated.outs as NewTableSnapshotsOutputs, inputs(["public.a"]));
    expect(await requests()).toHaveLength(1);
  });

  it("fails naming the table when the request cannot be inserted", async () => {
    const bad = { ...inputs(["public.a", "public.b"]), signalTable: "public.no_such_table" };
    await expect(
      provider.update!("x", { signalTable: "public.no_such_table", tables: ["public.a"] }, bad),
    ).rejects.toThrow(
      /cannot request a snapshot of public.b through public.no_such_table: relation .* does not exist/,
    );
  });

  it("a table added to a running capture: its rows as reads, the other table streams on", async () => {
    await h.db.query("CREATE TABLE public.kept (id int PRIMARY KEY, n int NOT NULL)");
    await h.db.query("CREATE TABLE public.added (id int PRIMARY KEY, n int NOT NULL)");
    await h.db.query("INSERT INTO public.kept SELECT i, 0 FROM generate_series(1, 3) i");
    await h.db.query("INSERT INTO public.added SELECT i, i FROM generate_series(1, 5) i");
    const setup = await captureSetup(h, ["public.kept", SIGNALS], {
      source: {
        "table.include.list": "public.kept",
        "signal.data.collection": SIGNALS,
        "incremental.snapshot.chunk.size": "2",
      },
      sink: { topics: "cdc.public.kept,cdc.public.added", "flush.size": "1" },
    });
    let runtime = await runtimeFor(setup);
    await h.db.query("UPDATE public.kept SET n = 1 WHERE id = 1");
    // pulumi up: the publication gains the table, the connector restarts on the longer list, then the request.
    const publication = (
      await h.db.query<{ pubname: string }>(
        "SELECT pubname FROM pg_publication_tables WHERE tablename = 'kept'",
      )
    ).rows[0]!.pubname;
    await h.db.query(`ALTER PUBLICATION ${publication} ADD TABLE public.added`);
    await h.db.query("UPDATE public.kept SET n = 2 WHERE id = 2");
    await runtime.stop();
    const grown = { ...setup, source: { ...setup.source, "table.include.list": "public.kept,public.added" } };
    runtime = await runtimeFor(grown);
    try {
      const created = await provider.create(inputs(["public.kept"]));
      await provider.update!(
        created.id,
        created.outs as NewTableSnapshotsOutputs,
        inputs(["public.kept", "public.added"]),
      );
      await h.db.query("UPDATE public.kept SET n = 3 WHERE id = 3");
      await h.db.query("UPDATE public.added SET n = 50 WHERE id = 5");
      const files = (topic: string) => topicFiles(setup.bucketRoot, topic).length;
      const deadline = Date.now() + 30_000;
      while ((files("cdc.public.added") < 5 || files("cdc.public.kept") < 6) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      // The snapshot's last chunk (5) may still be on its way: 5 files if its read was replaced by the update.
      await new Promise((r) => setTimeout(r, 1500));
      await runtime.flush();
      const kept = await readParquet(topicFiles(setup.bucketRoot, "cdc.public.kept"), "__op, id, n");
      expect(kept.rows).toEqual([
        ...[1, 2, 3].map((id) => ({ __op: "r", id, n: 0 })),
        { __op: "u", id: 1, n: 1 },
        { __op: "u", id: 2, n: 2 },
        { __op: "u", id: 3, n: 3 },
      ]);
      const added = await readParquet(topicFiles(setup.bucketRoot, "cdc.public.added"), "__op, id, n");
      // Every row once as a read, in key order; 5's read, before or after its update or replaced by it
      // (timing), never leaves an older value last.
      const reads = added.rows.filter((r) => r.__op === "r").map((r) => r.id);
      expect(reads.filter((id) => id !== 5)).toEqual([1, 2, 3, 4]);
      expect(added.rows.filter((r) => r.__op === "u")).toEqual([{ __op: "u", id: 5, n: 50 }]);
      expect(added.rows.filter((r) => r.id === 5).at(-1)).toMatchObject({ n: 50 });
    } finally {
      await runtime.stop();
    }
  }, 120_000);
});
