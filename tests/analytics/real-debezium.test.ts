/**
 * The SCD2 job on what real Debezium 3.6.1 produces: PostgreSQL with the project's source setup, Kafka,
 * Kafka Connect with the project's source connector config; the records read back from Kafka and laid out
 * as the S3 sink writes them (with re-deliveries); the job's tables compared row by row with the history
 * derived from PostgreSQL's own record of each commit (changes, LSNs, commit times, row states).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topicForTable } from "../../connectors/config";
import { sourceSetup } from "../../connectors/database";
import type { TopicRecord } from "../../engines/kafka-records";
import { run } from "./helpers/fixtures";
import { startCapture, TOPIC_PREFIX } from "./real-debezium/capture";
import type { Capture } from "./real-debezium/capture";
import type { Row } from "./real-debezium/canonical";
import { GroundTruth, tableRows } from "./real-debezium/ground-truth";
import { expectedHistory } from "./real-debezium/history";
import type { Snapshot, Unavailable } from "./real-debezium/history";
import { PLACEHOLDER_TEXT } from "./helpers/placeholder";
import { SinkLayout } from "./real-debezium/layout";
import { expectedRows, JOB_COLUMNS, outputColumns, outputRows } from "./real-debezium/tables";
import { PRODUCT, USER, runWorkload, seedSnapshotRows } from "./real-debezium/workload";

const TABLES = sourceSetup().tables;
const FLUSH_SIZE = 4;
/** Records re-delivered at the start of the second delivery: the last ones of the first. */
const REDELIVERED_ACROSS_RUNS = 3;
/** And at its end: the last ones of the second delivery itself. */
const REDELIVERED_IN_RUN = 2;

interface Unwrapped {
  id: number;
  __op: string;
  __lsn: number;
  __txId: number | null;
  __source_ts_ms: number;
  [column: string]: unknown;
}
const payload = (r: TopicRecord): Unwrapped => (r.value as { payload: Unwrapped }).payload;
const topicOf = (table: string) => topicForTable(TOPIC_PREFIX, table);

let root: string;
let capture: Capture;
let truth: GroundTruth;
const snapshotRows = new Map<string, Row[]>();
const records = new Map<string, TopicRecord[]>();
/** Per topic, the number of records in each delivery (for the expected file layout). */
const deliveries = new Map<string, number[]>();
let layout: SinkLayout;
let incremental: string;
let refreshed: string;
let deployedAtMs: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "scd2-real-debezium-"));
  chmodSync(root, 0o755);
  capture = await startCapture(root);
  await seedSnapshotRows(capture.admin);
  for (const table of TABLES) snapshotRows.set(table.qualifiedName, await tableRows(capture.admin, table));
  truth = await GroundTruth.start(capture.admin, TABLES);
  deployedAtMs = Date.now();
  await capture.deploy();
  // The snapshot is done once its records are all there; only then does the workload start.
  for (const table of TABLES)
    await capture.records(topicOf(table.qualifiedName), snapshotRows.get(table.qualifiedName)!.length);
  const [a, b] = [new pg.Client(capture.connectionString), new pg.Client(capture.connectionString)];
  await Promise.all([a.connect(), b.connect()]);
  try {
    await runWorkload(a, b, truth);
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
  for (const table of TABLES) {
    const name = table.qualifiedName;
    const streamed = truth.commits.flatMap((c) => c.changes).filter((c) => c.table === name).length;
    records.set(
      topicOf(name),
      await capture.records(topicOf(name), snapshotRows.get(name)!.length + streamed),
    );
  }

  // Two deliveries, the job runs after each; the second re-delivers records of the first and of itself.
  layout = await SinkLayout.open(join(root, "bucket"), FLUSH_SIZE);
  incremental = join(root, "scd2-incremental");
  refreshed = join(root, "scd2-full-refresh");
  const source = layout.topicsDir;
  const options = { tables: TABLES.map((t) => ({ table: t.qualifiedName })), topicPrefix: TOPIC_PREFIX };
  const halves = [...records].map(([topic, all]) => [topic, Math.ceil(all.length / 2), all] as const);
  for (const [topic, half, all] of halves) {
    layout.deliver(topic, all.slice(0, half));
    deliveries.set(topic, [half]);
  }
  await layout.commit();
  await run(source, incremental, options);
  for (const [topic, half, all] of halves) {
    layout.deliver(topic, all.slice(half - REDELIVERED_ACROSS_RUNS, half));
    layout.deliver(topic, all.slice(half));
    layout.deliver(topic, all.slice(-REDELIVERED_IN_RUN));
    deliveries.get(topic)!.push(REDELIVERED_ACROSS_RUNS + all.length - half + REDELIVERED_IN_RUN);
  }
  await layout.commit();
  await run(source, incremental, options);
  await run(source, refreshed, { ...options, fullRefresh: true });
}, 900_000);

afterAll(async () => {
  await layout?.close();
  await truth?.stop().catch(() => undefined);
  await capture?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The snapshot as Debezium took it: PostgreSQL's rows, with the position and time its records carry. */
function snapshotOf(table: string): Snapshot {
  const [first] = records
    .get(topicOf(table))!
    .map(payload)
    .filter((p) => p.__op === "r");
  return {
    rows: snapshotRows.get(table)!,
    tsMs: first!.__source_ts_ms,
    lsn: String(first!.__lsn),
    txId: String(first!.__txId),
  };
}

/** Where the records of `table` carry the unavailable-value placeholder, by key and LSN. */
function placeholdersIn(table: string): Unavailable {
  const columns = new Map<string, string[]>();
  for (const p of records.get(topicOf(table))!.map(payload)) {
    const names = Object.keys(p).filter((column) => p[column] === PLACEHOLDER_TEXT);
    if (names.length > 0) columns.set(`${p.id}/${p.__lsn}`, names);
  }
  return (id, lsn) => columns.get(`${id}/${lsn}`) ?? [];
}

const historyOf = (table: string) =>
  expectedHistory(table, snapshotOf(table), truth.commits, placeholdersIn(table));

describe("real Debezium 3.6.1 records", () => {
  it.each(TABLES.map((t) => t.qualifiedName))(
    "%s: the streamed records are PostgreSQL's changes in commit order, dated by the commit time",
    (table) => {
      const streamed = records
        .get(topicOf(table))!
        .map(payload)
        .filter((p) => p.__op !== "r")
        .map((p) => ({
          id: String(p.id),
          op: p.__op,
          lsn: String(p.__lsn),
          txId: String(p.__txId),
          ts: p.__source_ts_ms,
        }));
      const logged = truth.commits.flatMap((commit) =>
        commit.changes
          .filter((c) => c.table === table)
          .map((c) => ({ id: c.id, op: c.op, lsn: c.lsn, txId: commit.xid, ts: commit.tsMs })),
      );
      expect(streamed).toEqual(logged);
    },
  );

  it("the snapshot's records share one position and time, after the connector was deployed", () => {
    const read = [...records.values()].flatMap((all) => all.map(payload).filter((p) => p.__op === "r"));
    expect(read).toHaveLength([...snapshotRows.values()].flat().length);
    const [first] = read;
    for (const p of read)
      expect([p.__lsn, p.__txId, p.__source_ts_ms]).toEqual([
        first!.__lsn,
        first!.__txId,
        first!.__source_ts_ms,
      ]);
    const firstChange = truth.commits[0]!;
    expect(first!.__source_ts_ms).toBeGreaterThanOrEqual(deployedAtMs);
    expect(first!.__source_ts_ms).toBeLessThanOrEqual(firstChange.tsMs);
    expect(BigInt(first!.__lsn)).toBeLessThan(BigInt(firstChange.changes[0]!.lsn));
  });

  it("the cases the history must get right are in the records", () => {
    const products = records.get(topicOf("commerce.products"))!.map(payload);
    const toasted = products.filter((p) => String(p.id) === PRODUCT.toasted && p.__op === "u");
    expect(toasted.map((p) => p.description === PLACEHOLDER_TEXT)).toEqual([true, true, false]);
    const renamed = products.filter((p) =>
      [PRODUCT.renamedFrom, PRODUCT.renamedTo].some((id) => id === String(p.id)),
    );
    expect(renamed.map((p) => [String(p.id), p.__op, p.description === PLACEHOLDER_TEXT])).toEqual([
      [PRODUCT.renamedFrom, "c", false],
      [PRODUCT.renamedFrom, "u", true],
      [PRODUCT.renamedFrom, "d", false],
      [PRODUCT.renamedTo, "c", true],
      [PRODUCT.renamedTo, "u", true],
    ]);
    const collapsed = products.filter((p) => String(p.id) === PRODUCT.collapsed && p.__op === "u");
    expect(collapsed[1]!.__txId).toBe(collapsed[2]!.__txId);
  });
});

describe("the change files", () => {
  it.each([...TABLES.map((t) => t.qualifiedName)])("%s: named and rotated as the S3 sink does", (table) => {
    const topic = topicOf(table);
    const starts: number[] = [];
    let offset = 0;
    for (const count of deliveries.get(topic)!) {
      for (let i = 0; i < count; i += FLUSH_SIZE) starts.push(offset + i);
      offset += count;
    }
    const name = (start: number) =>
      `${topic}/partition=0/${topic}+0+${String(start).padStart(10, "0")}.snappy.parquet`;
    expect(layout.files(topic)).toEqual(starts.map(name));
  });
});

describe("the SCD2 tables", () => {
  const cases = TABLES.flatMap((t) => [
    { table: t, output: () => incremental, how: "two incremental runs" },
    { table: t, output: () => refreshed, how: "a full refresh" },
  ]);
  it.each(cases)(
    "$table.qualifiedName after $how: exactly the ground truth's history",
    async ({ table, output }) => {
      const name = table.qualifiedName;
      const versions = historyOf(name);
      const topic = topicOf(name);
      const expected = expectedRows(versions, topic, records.get(topic)!, layout);
      expect(await outputRows(output(), table.name, table.columns)).toEqual(expected);
      expect(await outputColumns(output(), table.name)).toEqual([
        ...table.columns.map((c) => c.name),
        ...JOB_COLUMNS,
      ]);
    },
  );

  it("products: the histories the rules shape, and the documented gap of a key change", () => {
    const versions = historyOf("commerce.products");
    const of = (id: string) => versions.filter((v) => v.id === id);
    // Snapshot, one update, the collapsed pair as one version, the interleaved pair as two.
    expect(of(PRODUCT.collapsed).map((v) => v.op)).toEqual(["r", "u", "u", "u", "u"]);
    expect(of(PRODUCT.reinserted).map((v) => [v.op, v.deleted, v.toMs === null])).toEqual([
      ["r", true, false],
      ["c", false, true],
    ]);
    const [read] = of(PRODUCT.toasted);
    expect(read!.values.description).toBe(
      snapshotRows.get("commerce.products")!.find((r) => r.id === PRODUCT.toasted)!.description,
    );
    expect(of(PRODUCT.toasted).map((v) => v.values.description === read!.values.description)).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(of(PRODUCT.renamedFrom).at(-1)!.deleted).toBe(true);
    // Under REPLICA IDENTITY DEFAULT the new key's create carries the placeholder for the unchanged TOASTed
    // description, and the key has no earlier version to carry it from: NULL where PostgreSQL has the text.
    const postgres = expectedHistory(
      "commerce.products",
      snapshotOf("commerce.products"),
      truth.commits,
      () => [],
    );
    expect(postgres.map((v) => [v.id, v.fromMs])).toEqual(versions.map((v) => [v.id, v.fromMs]));
    const gaps = versions.flatMap((v, i) =>
      Object.keys(v.values)
        .filter((column) => v.values[column] !== postgres[i]!.values[column])
        .map((column) => [v.id, column, v.values[column], postgres[i]!.values[column]]),
    );
    const moved = of(PRODUCT.renamedFrom).at(-1)!.values.description;
    expect(gaps).toEqual([
      [PRODUCT.renamedTo, "description", null, moved],
      [PRODUCT.renamedTo, "description", null, moved],
    ]);
  });

  it("users: the histories the rules shape", () => {
    const versions = historyOf("commerce.users");
    const of = (id: string) =>
      versions.filter((v) => v.id === id).map((v) => [v.op, v.deleted, v.toMs === null]);
    // The update that changes nothing makes no version.
    expect(of(USER.unchanged)).toEqual([
      ["r", false, false],
      ["u", false, false],
      ["u", false, true],
    ]);
    expect(of(USER.deleted)).toEqual([
      ["r", false, false],
      ["u", true, false],
    ]);
    // Deleted and inserted again in one transaction: the first version is closed, not deleted.
    expect(of(USER.sameTxReinserted)).toEqual([
      ["c", false, false],
      ["c", false, true],
    ]);
  });
});
