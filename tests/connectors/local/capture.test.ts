/**
 * data-contract.md §1-2 on a real PostgreSQL: SQL actions and the exact rows the bucket holds,
 * with LSNs, xids and commit times checked against a test_decoding slot (PostgreSQL's own account).
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import {
  captureSetup,
  createOracle,
  dropInactiveSlots,
  readParquet,
  runtimeFor,
  topicFiles,
  waitFor,
  type Harness,
  type OracleTx,
  useHarness,
} from "./harness";

/** The unwrap metadata Debezium adds for change `index` of `tx`, given the previous commit. */
function meta(op: string, table: string, tx: OracleTx, index: number, previousCommit: string | null) {
  const lsn = tx.changes[index]!.lsn;
  return {
    __deleted: op === "d" ? "true" : "false",
    __op: op,
    __table: table,
    __lsn: lsn,
    __txId: String(tx.xid),
    __source_ts_ms: String(tx.commitMs),
    __sequence: JSON.stringify([previousCommit, lsn]),
  };
}

async function capture(
  h: Harness,
  table: string,
  run: () => Promise<void>,
  transactions: number,
  select = "*",
) {
  const setup = await captureSetup(h, [table]);
  const oracle = await createOracle(h);
  const runtime = await runtimeFor(setup);
  await run();
  await waitFor(() => runtime.stats().transactions >= transactions);
  await runtime.stop();
  const files = topicFiles(setup.bucketRoot, `cdc.${table}`);
  const txs = await oracle();
  await dropInactiveSlots(h);
  return { files, ...(await readParquet(files, select)), txs, stats: runtime.stats() };
}

describe("Debezium records in the bucket", () => {
  const h = useHarness();
  beforeAll(async () => {
    await h.db.query("CREATE SCHEMA shop");
  });

  it("snapshots existing rows, then streams insert/update/delete (REPLICA IDENTITY DEFAULT)", async () => {
    await h.db.query(`CREATE TABLE shop.items (
      id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL DEFAULT 0,
      in_stock boolean NOT NULL DEFAULT true, note text, updated_at timestamptz NOT NULL DEFAULT now())`);
    await h.db.query(`INSERT INTO shop.items VALUES (1, 'apple', 1.5, true, 'n1', '2024-01-01 10:00:00+00'),
      (2, 'pear', 2, false, NULL, '2024-01-02 10:00:00.25+00')`);
    const { rows, schemas, files, txs } = await capture(
      h,
      "shop.items",
      async () => {
        await h.db.query(
          "INSERT INTO shop.items VALUES (3, 'plum', 0.99, true, NULL, '2024-02-01 00:00:00+00')",
        );
        await h.db.query("UPDATE shop.items SET price = 1.75 WHERE id = 1");
        await h.db.query("DELETE FROM shop.items WHERE id = 2");
      },
      3,
    );
    expect(files.map((f) => f.split("/").slice(-4).join("/"))).toEqual([
      "cdc_data/cdc.shop.items/partition=0/cdc.shop.items+0+0000000000.snappy.parquet",
    ]);
    const [insert, update, del] = txs;
    const snap = rows[0]!.__lsn as string;
    expect(BigInt(snap)).toBeLessThan(BigInt(insert!.changes[0]!.lsn));
    const row = (
      id: number,
      name: string,
      price: string,
      inStock: boolean,
      note: string | null,
      at: string,
    ) => ({
      id,
      name,
      price,
      in_stock: inStock,
      note,
      updated_at: at,
    });
    // Snapshot rows all carry the snapshot's LSN, txId and time; `sequence` has no last commit.
    const r = {
      __deleted: "false",
      __op: "r",
      __table: "items",
      __lsn: snap,
      __txId: rows[0]!.__txId,
      __source_ts_ms: rows[0]!.__source_ts_ms,
      __sequence: JSON.stringify([null, snap]),
    };
    expect(rows).toEqual([
      { ...row(1, "apple", "1.50", true, "n1", "2024-01-01T10:00:00.000000Z"), ...r },
      { ...row(2, "pear", "2.00", false, null, "2024-01-02T10:00:00.250000Z"), ...r },
      {
        ...row(3, "plum", "0.99", true, null, "2024-02-01T00:00:00.000000Z"),
        ...meta("c", "items", insert!, 0, null),
      },
      {
        ...row(1, "apple", "1.75", true, "n1", "2024-01-01T10:00:00.000000Z"),
        ...meta("u", "items", update!, 0, insert!.commitLsn),
      },
      // DEFAULT identity: only the key is known; NOT NULL columns get their DDL default or a type fallback.
      {
        ...row(2, "", "0.00", true, null, "1970-01-01T00:00:00.000000Z"),
        ...meta("d", "items", del!, 0, update!.commitLsn),
      },
    ]);
    const optional = (type: unknown) => ({ type: ["null", type], default: null });
    expect(schemas[0]).toEqual({
      type: "record",
      name: "Value",
      namespace: "cdc.shop.items",
      fields: [
        { name: "id", type: "int" },
        { name: "name", type: "string" },
        {
          name: "price",
          type: {
            type: "bytes",
            scale: 2,
            precision: 10,
            "connect.version": 1,
            "connect.parameters": { scale: "2", "connect.decimal.precision": "10" },
            "connect.default": "\u0000",
            "connect.name": "org.apache.kafka.connect.data.Decimal",
            logicalType: "decimal",
          },
          default: "\u0000",
        },
        { name: "in_stock", type: { type: "boolean", "connect.default": true }, default: true },
        { name: "note", ...optional("string") },
        // DEFAULT now(): Debezium gives a generated default the epoch, at the column's precision.
        {
          name: "updated_at",
          type: {
            type: "string",
            "connect.version": 1,
            "connect.default": "1970-01-01T00:00:00.000000Z",
            "connect.name": "io.debezium.time.ZonedTimestamp",
          },
          default: "1970-01-01T00:00:00.000000Z",
        },
        { name: "__deleted", ...optional("string") },
        { name: "__op", ...optional("string") },
        { name: "__table", ...optional("string") },
        { name: "__lsn", ...optional("long") },
        { name: "__txId", ...optional("long") },
        { name: "__source_ts_ms", ...optional("long") },
        { name: "__sequence", ...optional("string") },
      ],
      "connect.name": "cdc.shop.items.Value",
    });
  });

  it("marks snapshot rows first/last as Debezium does, tables in table.include.list order", async () => {
    await h.db.query("CREATE TABLE shop.snap_a (id int PRIMARY KEY)");
    await h.db.query("CREATE TABLE shop.snap_b (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO shop.snap_a VALUES (1), (2), (3)");
    await h.db.query("INSERT INTO shop.snap_b VALUES (1)");
    const setup = await captureSetup(h, ["shop.snap_b", "shop.snap_a"], {
      source: { "transforms.unwrap.add.fields": "op,snapshot", "snapshot.fetch.size": "2" },
    });
    await (await runtimeFor(setup)).stop();
    const read = (table: string) => readParquet(topicFiles(setup.bucketRoot, `cdc.shop.${table}`));
    const [a, b] = [await read("snap_a"), await read("snap_b")];
    expect(b.rows).toEqual([{ id: 1, __deleted: "false", __op: "r", __snapshot: "first" }]);
    expect(a.rows.map((r) => [r.id, r.__snapshot])).toEqual([
      [1, "first_in_data_collection"],
      [2, "true"],
      [3, "last"],
    ]);
    // add.fields copies the field's schema without its default (SchemaUtil.copySchemaBasics), made optional.
    expect((a.schemas[0] as { fields: unknown[] }).fields.at(-1)).toEqual({
      name: "__snapshot",
      type: [
        "null",
        {
          type: "string",
          "connect.version": 1,
          "connect.parameters": {
            allowed: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
          },
          "connect.name": "io.debezium.data.Enum",
        },
      ],
      default: null,
    });
  });

  it("REPLICA IDENTITY FULL: a delete carries the whole old row", async () => {
    await h.db.query("CREATE TABLE shop.full_rows (id int PRIMARY KEY, name text NOT NULL, qty int)");
    await h.db.query("ALTER TABLE shop.full_rows REPLICA IDENTITY FULL");
    const { rows, txs } = await capture(
      h,
      "shop.full_rows",
      async () => {
        await h.db.query("INSERT INTO shop.full_rows VALUES (1, 'a', 5)");
        await h.db.query("UPDATE shop.full_rows SET qty = 6 WHERE id = 1");
        await h.db.query("DELETE FROM shop.full_rows WHERE id = 1");
      },
      3,
    );
    const [c, u, d] = txs;
    expect(rows).toEqual([
      { id: 1, name: "a", qty: 5, ...meta("c", "full_rows", c!, 0, null) },
      { id: 1, name: "a", qty: 6, ...meta("u", "full_rows", u!, 0, c!.commitLsn) },
      { id: 1, name: "a", qty: 6, ...meta("d", "full_rows", d!, 0, u!.commitLsn) },
    ]);
  });

  it("unchanged TOASTed values become the placeholder (DEFAULT) or the real value (FULL)", async () => {
    for (const identity of ["DEFAULT", "FULL"]) {
      const table = `shop.toast_${identity.toLowerCase()}`;
      await h.db.query(
        `CREATE TABLE ${table} (id int PRIMARY KEY, big text, blob bytea, tags text[], qty int)`,
      );
      await h.db.query(`ALTER TABLE ${table} REPLICA IDENTITY ${identity}`);
      await h.db
        .query(`INSERT INTO ${table} SELECT 1, string_agg(md5(i::text), ''), decode(string_agg(md5(i::text), ''), 'hex'),
        array_agg(md5(i::text)), 1 FROM generate_series(1, 400) i`);
      const { rows, txs } = await capture(
        h,
        table,
        () => h.db.query(`UPDATE ${table} SET qty = 2 WHERE id = 1`).then(() => undefined),
        1,
        "* REPLACE (hex(blob) AS blob)",
      );
      const real = await h.db.query<{ big: string; blob: string; tags: string[] }>(
        `SELECT big, upper(encode(blob, 'hex')) AS blob, tags FROM ${table}`,
      );
      const realValues = real.rows[0]!;
      const placeholder = "__debezium_unavailable_value";
      const placeholderHex = Buffer.from(placeholder).toString("hex").toUpperCase();
      const { __lsn, __txId, __source_ts_ms, __sequence } = rows[0]!;
      expect(rows).toEqual([
        // The snapshot row always has the real values.
        {
          id: 1,
          ...realValues,
          qty: 1,
          __deleted: "false",
          __op: "r",
          __table: table.slice(5),
          __lsn,
          __txId,
          __source_ts_ms,
          __sequence,
        },
        {
          id: 1,
          ...(identity === "DEFAULT"
            ? { big: placeholder, blob: placeholderHex, tags: [placeholder] }
            : realValues),
          qty: 2,
          ...meta("u", table.slice(5), txs[0]!, 0, null),
        },
      ]);
    }
  });

  it("a primary-key change leaves an unchanged TOASTed value in no event under DEFAULT", async () => {
    for (const identity of ["DEFAULT", "FULL"]) {
      const table = `shop.key_toast_${identity.toLowerCase()}`;
      await h.db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, big text, qty int NOT NULL)`);
      await h.db.query(`ALTER TABLE ${table} REPLICA IDENTITY ${identity}`);
      // md5 text does not compress: stored out of line (TOAST).
      const big = Array.from({ length: 400 }, (_, i) => createHash("md5").update(`${i}`).digest("hex")).join(
        "",
      );
      const { rows, txs } = await capture(
        h,
        table,
        async () => {
          await h.db.query(`INSERT INTO ${table} VALUES (1, $1, 1)`, [big]);
          await h.db.query(`UPDATE ${table} SET id = 10 WHERE id = 1`);
        },
        2,
      );
      const [c, u] = txs;
      const name = table.slice(5);
      // DEFAULT: the old key's before-image holds only the key; the new key's create carries the
      // placeholder (pgoutput sends the value as unchanged), so SCD2 has nothing to carry forward.
      expect(rows).toEqual([
        { id: 1, big, qty: 1, ...meta("c", name, c!, 0, null) },
        identity === "DEFAULT"
          ? { id: 1, big: null, qty: 0, ...meta("d", name, u!, 0, c!.commitLsn) }
          : { id: 1, big, qty: 1, ...meta("d", name, u!, 0, c!.commitLsn) },
        {
          id: 10,
          big: identity === "DEFAULT" ? "__debezium_unavailable_value" : big,
          qty: 1,
          ...meta("c", name, u!, 0, c!.commitLsn),
        },
      ]);
    }
  });

  it("a primary-key update is a delete of the old key and a create of the new one, at the same LSN", async () => {
    await h.db.query("CREATE TABLE shop.keys (id int PRIMARY KEY, name text NOT NULL)");
    const { rows, txs } = await capture(
      h,
      "shop.keys",
      async () => {
        await h.db.query("INSERT INTO shop.keys VALUES (1, 'a')");
        await h.db.query("UPDATE shop.keys SET id = 10 WHERE id = 1");
      },
      2,
    );
    const [c, u] = txs;
    expect(rows).toEqual([
      { id: 1, name: "a", ...meta("c", "keys", c!, 0, null) },
      { id: 1, name: "", ...meta("d", "keys", u!, 0, c!.commitLsn) },
      { id: 10, name: "a", ...meta("c", "keys", u!, 0, c!.commitLsn) },
    ]);
  });

  it("a multi-statement transaction shares txId and commit time; interleaved transactions land in commit order", async () => {
    await h.db.query("CREATE TABLE shop.tx (id int PRIMARY KEY, v int NOT NULL)");
    await h.db.query("INSERT INTO shop.tx VALUES (1, 0), (2, 0)");
    const other = new pg.Client(h.pg.connectionString);
    await other.connect();
    const { rows, txs } = await capture(
      h,
      "shop.tx",
      async () => {
        await h.db.query("BEGIN");
        await h.db.query("INSERT INTO shop.tx VALUES (3, 0)");
        await h.db.query("UPDATE shop.tx SET v = 1 WHERE id = 3");
        await h.db.query("DELETE FROM shop.tx WHERE id = 2");
        await h.db.query("COMMIT");
        // T1 changes row 1 first (lower LSN) but commits after T2.
        await h.db.query("BEGIN");
        await h.db.query("UPDATE shop.tx SET v = 10 WHERE id = 1");
        await other.query("BEGIN");
        await other.query("UPDATE shop.tx SET v = 30 WHERE id = 3");
        await other.query("COMMIT");
        await h.db.query("COMMIT");
      },
      3,
    );
    await other.end();
    const [multi, t2, t1] = txs;
    expect(BigInt(t1!.changes[0]!.lsn)).toBeLessThan(BigInt(t2!.changes[0]!.lsn));
    expect(rows.slice(2)).toEqual([
      { id: 3, v: 0, ...meta("c", "tx", multi!, 0, null) },
      { id: 3, v: 1, ...meta("u", "tx", multi!, 1, null) },
      { id: 2, v: 0, ...meta("d", "tx", multi!, 2, null) },
      { id: 3, v: 30, ...meta("u", "tx", t2!, 0, multi!.commitLsn) },
      { id: 1, v: 10, ...meta("u", "tx", t1!, 0, t2!.commitLsn) },
    ]);
  });
});
