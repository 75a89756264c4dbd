/**
 * NewTableSnapshots' provider on a real PostgreSQL, and the path it serves with the local runtime: a table is
 * added to a running capture (publication, then the connector restarted on the longer table.include.list, then
 * the request): its rows arrive as reads, the other table streams on without a gap or a duplicate, and the SCD2
 * history of the new table equals PostgreSQL's rows from its snapshot on. Its TLS, each
 * sslmode against a server whose certificate a test CA signed (tests/infra/tls-server.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTableSql, sourceSetup, type DatabaseSslMode } from "../../../connectors/database";
import {
  addedTables,
  newTableSnapshotsProvider as provider,
  type NewTableSnapshotsInputs,
  type NewTableSnapshotsOutputs,
} from "../../../connectors/signals/resource";
import type { DatabaseConnection } from "../../../connectors/database/connection";
import { readTable, run } from "../../analytics/helpers/fixtures";
import { CHECKED_CONNECTION } from "../../common/database-connection";
import { TLS_POSTGRES_PASSWORD, startTlsPostgres, type TlsPostgres } from "../../infra/tls-server";
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
      sslMode: "disable",
    },
    signalTable: SIGNALS,
    tables,
  });
  const requests = async () =>
    (
      await h.db.query<{ id: string; type: string; data: string }>(
        `SELECT id, type, data FROM ${SIGNALS} WHERE type = 'execute-snapshot' ORDER BY data`,
      )
    ).rows;
  const request = (id: string | undefined, tables: string[]) => ({
    id,
    type: "execute-snapshot",
    data: JSON.stringify({ "data-collections": tables, type: "incremental" }),
  });

  it("requests nothing on create, one request naming only the added tables on update, nothing on removal", async () => {
    await h.db.query(createTableSql(sourceSetup({ signalTable: SIGNALS }).signalTable));
    const created = await provider.create(inputs(["public.a"]));
    expect(created.outs).toEqual({ signalTable: SIGNALS, tables: ["public.a"] });
    expect(await requests()).toEqual([]);

    const olds = created.outs as NewTableSnapshotsOutputs;
    expect((await provider.diff!(created.id, olds, inputs(["public.a"]))).changes).toBe(false);
    expect((await provider.diff!(created.id, olds, inputs(["public.a", "public.b"]))).changes).toBe(true);
    // One table added: exactly one request, naming that table alone.
    const one = await provider.update!(created.id, olds, inputs(["public.a", "public.b"]));
    const first = (one.outs as NewTableSnapshotsOutputs).lastRequest;
    expect(one.outs).toEqual({
      signalTable: SIGNALS,
      tables: ["public.a", "public.b"],
      lastRequest: { id: first?.id, tables: ["public.b"] },
    });
    expect(await requests()).toEqual([request(first?.id, ["public.b"])]);
    // Two added in one up: one more request, naming both.
    const two = await provider.update!(
      created.id,
      one.outs as NewTableSnapshotsOutputs,
      inputs(["public.a", "public.b", "public.c", "public.d"]),
    );
    const second = (two.outs as NewTableSnapshotsOutputs).lastRequest;
    expect(second?.tables).toEqual(["public.c", "public.d"]);
    expect(await requests()).toEqual([
      request(first?.id, ["public.b"]),
      request(second?.id, ["public.c", "public.d"]),
    ]);
    // A removal, then a reordering: nothing requested, the last request kept in the state.
    const removed = await provider.update!(
      created.id,
      two.outs as NewTableSnapshotsOutputs,
      inputs(["public.a", "public.c"]),
    );
    expect(removed.outs).toEqual({
      signalTable: SIGNALS,
      tables: ["public.a", "public.c"],
      lastRequest: second,
    });
    await provider.update!(
      created.id,
      removed.outs as NewTableSnapshotsOutputs,
      inputs(["public.c", "public.a"]),
    );
    expect(await requests()).toHaveLength(2);
  });

  it("fails naming the tables, the signalling table and the server when the request cannot be inserted", async () => {
    const bad = { ...inputs(["public.a", "public.b"]), signalTable: "public.no_such_table" };
    await expect(
      provider.update!("x", { signalTable: "public.no_such_table", tables: ["public.a"] }, bad),
    ).rejects.toThrow(
      `cannot request a snapshot of public.b through public.no_such_table on 127.0.0.1:${h.pg.port}/postgres: ` +
        'relation "public.no_such_table" does not exist',
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

      // The SCD2 history: the new table's current rows are PostgreSQL's, one version per row its snapshot
      // read (5 ends at its update), and the kept table has each change once.
      const output = join(setup.bucketRoot, "scd2");
      await run(join(setup.bucketRoot, "bucket", "cdc_data"), output, {
        tables: [{ table: "public.kept" }, { table: "public.added" }],
      });
      const current = (dir: string) =>
        readTable(output, dir).then((rows) =>
          rows.filter((r) => r.is_current === true).map((r) => ({ id: r.id, n: r.n })),
        );
      const truth = await h.db.query<{ id: number; n: number }>("SELECT id, n FROM public.added ORDER BY id");
      expect(await current("added")).toEqual(truth.rows);
      const addedVersions = (await readTable(output, "added")).filter((r) => r.id !== 5);
      expect(addedVersions.map((r) => [r.id, r.n, r.__op])).toEqual([1, 2, 3, 4].map((id) => [id, id, "r"]));
      const keptVersions = await readTable(output, "kept");
      expect(keptVersions.map((r) => [r.id, r.n, r.is_current])).toEqual([
        [1, 0, false],
        [1, 1, true],
        [2, 0, false],
        [2, 2, true],
        [3, 0, false],
        [3, 3, true],
      ]);
    } finally {
      await runtime.stop();
    }
  }, 120_000);
});

describe("NewTableSnapshots' check", () => {
  const connection = CHECKED_CONNECTION;
  const news = (overrides: Partial<NewTableSnapshotsInputs>): NewTableSnapshotsInputs => ({
    connection,
    signalTable: "commerce.cdc_signal",
    tables: ["commerce.users"],
    ...overrides,
  });

  it.each<[string, Partial<NewTableSnapshotsInputs>, pulumi.dynamic.CheckFailure[]]>([
    ["a valid input", {}, []],
    [
      "verify-full with its CAs",
      { connection: { ...connection, sslMode: "verify-full", caBundle: "PEM" } },
      [],
    ],
    // A preview before the database exists: the connection is not known yet, nothing to say about it.
    [
      "an unknown connection",
      { connection: pulumi.runtime.unknownValue as unknown as DatabaseConnection },
      [],
    ],
    [
      "verify-full without CAs",
      { connection: { ...connection, sslMode: "verify-full" } },
      [
        {
          property: "connection",
          reason: "sslMode verify-full needs caBundle, the CAs to verify the server against",
        },
      ],
    ],
    [
      "verify-ca without CAs",
      { connection: { ...connection, sslMode: "verify-ca" } },
      [
        {
          property: "connection",
          reason: "sslMode verify-ca needs caBundle, the CAs to verify the server against",
        },
      ],
    ],
    [
      "an sslmode the stack does not know",
      { connection: { ...connection, sslMode: "prefer" as DatabaseSslMode } },
      [
        {
          property: "connection",
          reason: 'sslMode must be one of disable, require, verify-ca, verify-full (got "prefer")',
        },
      ],
    ],
    [
      "no host",
      { connection: { ...connection, host: "" } },
      [{ property: "connection", reason: "must name the host to connect to" }],
    ],
    [
      "no table, a signalling table without schema",
      { tables: [], signalTable: "cdc_signal" },
      [
        { property: "tables", reason: "must list at least one table" },
        { property: "signalTable", reason: "must be schema.table" },
      ],
    ],
  ])("%s", async (_case, overrides, failures) => {
    const checked = await provider.check!(news({}), news(overrides));
    expect(checked.failures).toEqual(failures);
  });
});

describe("NewTableSnapshots over TLS, per sslmode", () => {
  const SIGNAL_TABLE = "public.cdc_signal";
  let tls: TlsPostgres;
  let admin: Client;

  beforeAll(async () => {
    tls = await startTlsPostgres();
    admin = new Client({
      host: "localhost",
      port: tls.server.port,
      user: "postgres",
      password: TLS_POSTGRES_PASSWORD,
      database: "postgres",
    });
    await admin.connect();
    // Which session inserted each request, and whether it was encrypted.
    for (const sql of [
      createTableSql(sourceSetup({ signalTable: SIGNAL_TABLE }).signalTable),
      "CREATE TABLE public.request_sessions (id varchar(42) PRIMARY KEY, ssl boolean NOT NULL)",
      `CREATE FUNCTION public.note_session() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO public.request_sessions SELECT NEW.id, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();
         RETURN NEW;
       END $$`,
      `CREATE TRIGGER note_session AFTER INSERT ON ${SIGNAL_TABLE} FOR EACH ROW EXECUTE FUNCTION public.note_session()`,
    ])
      await admin.query(sql);
  }, 120_000);

  afterAll(async () => {
    await admin?.end();
    await tls?.stop();
  });

  const addTable = (host: string, sslMode: DatabaseSslMode, ca: "right" | "wrong" | "none") =>
    provider.update!(
      "x",
      { signalTable: SIGNAL_TABLE, tables: ["public.a"] },
      {
        connection: {
          host,
          port: tls.server.port,
          database: "postgres",
          user: "postgres",
          password: TLS_POSTGRES_PASSWORD,
          sslMode,
          ...(ca === "none" ? {} : { caBundle: ca === "right" ? tls.rightCa : tls.wrongCa }),
        },
        signalTable: SIGNAL_TABLE,
        tables: ["public.a", "public.b"],
      },
    );
  const requestCount = async () =>
    Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${SIGNAL_TABLE}`)).rows[0]!.n);

  it.each<[string, DatabaseSslMode, "right" | "wrong" | "none", boolean]>([
    ["localhost", "verify-full", "right", true],
    ["127.0.0.1", "verify-ca", "right", true],
    ["localhost", "verify-ca", "right", true],
    ["localhost", "require", "wrong", true],
    ["127.0.0.1", "require", "none", true],
    ["localhost", "disable", "none", false],
  ])("to %s with %s (%s CA): the request inserted, encrypted %s", async (host, mode, ca, encrypted) => {
    const updated = await addTable(host, mode, ca);
    const id = (updated.outs as NewTableSnapshotsOutputs).lastRequest?.id;
    const sessions = await admin.query<{ ssl: boolean }>(
      "SELECT ssl FROM public.request_sessions WHERE id = $1",
      [id],
    );
    expect(sessions.rows).toEqual([{ ssl: encrypted }]);
  });

  it.each<[string, DatabaseSslMode, "right" | "wrong", string]>([
    [
      "127.0.0.1",
      "verify-full",
      "right",
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list",
    ],
    ["localhost", "verify-full", "wrong", "unable to verify the first certificate"],
    ["127.0.0.1", "verify-ca", "wrong", "unable to verify the first certificate"],
  ])("to %s with %s (%s CA): refused, nothing inserted", async (host, mode, ca, reason) => {
    const before = await requestCount();
    await expect(addTable(host, mode, ca)).rejects.toThrow(
      `cannot request a snapshot of public.b through ${SIGNAL_TABLE} on ${host}:${tls.server.port}/postgres: ${reason}`,
    );
    expect(await requestCount()).toBe(before);
  });
});
