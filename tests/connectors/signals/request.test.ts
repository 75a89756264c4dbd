import { describe, expect, it } from "vitest";
import { parseLsn } from "../../../connectors/local/lsn";
import {
  debeziumOffsetView,
  localOffsetView,
  requestSnapshot,
  snapshotProgress,
  type OffsetView,
  type SnapshotRequest,
} from "../../../connectors/signals/request";
import { useHarness } from "../local/harness";

const request: SnapshotRequest = { id: "r1", tables: ["commerce.users"], before: 900n, lsn: 1000n };

describe("snapshotProgress", () => {
  it.each<[string, OffsetView | undefined, string]>([
    ["no offset stored yet", undefined, "waiting"],
    ["an offset from before the request", { lsn: 999n, pending: [] }, "waiting"],
    ["an offset past `before` but not past the commit", { lsn: 950n, pending: [] }, "waiting"],
    ["the request seen, the table still to read", { lsn: 1000n, pending: ["commerce.users"] }, "running"],
    [
      "the table queued behind another",
      { lsn: 5000n, pending: ["commerce.products", "commerce.users"] },
      "running",
    ],
    ["another table's snapshot still running", { lsn: 5000n, pending: ["commerce.products"] }, "done"],
    ["nothing pending past the request", { lsn: 1001n, pending: [] }, "done"],
  ])("%s: %s", (_name, offset, expected) => {
    expect(snapshotProgress(request, offset)).toBe(expected);
  });
});

describe("offset views", () => {
  it("reads Debezium's PostgreSQL offset (the incremental snapshot keys as Debezium stores them)", () => {
    expect(
      debeziumOffsetView({
        lsn_proc: 23858920,
        lsn: 23858920,
        txId: 781,
        ts_usec: 1765000000000000,
        incremental_snapshot_collections:
          '[{"incremental_snapshot_collections_id":"commerce.items","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":null}]',
        incremental_snapshot_primary_key: "aced0005757200",
        incremental_snapshot_maximum_key: "aced0005757200",
      }),
    ).toEqual({ lsn: 23858920n, pending: ["commerce.items"] });
    expect(debeziumOffsetView({ lsn: 23859000, txId: 790 })).toEqual({ lsn: 23859000n, pending: [] });
  });

  it("reads the local runtime's offset file", () => {
    expect(
      localOffsetView({
        lsn: "23858920",
        lsn_commit: "23858920",
        txId: 781,
        snapshot_completed: true,
        incremental_snapshot: { collections: ["commerce.items"], lastKeySent: ["4"], maximumKey: ["11"] },
      }),
    ).toEqual({ lsn: 23858920n, pending: ["commerce.items"] });
    expect(localOffsetView({ lsn: "100", lsn_commit: null, txId: 5, snapshot_completed: true })).toEqual({
      lsn: 100n,
      pending: [],
    });
  });

  it("names an offset without a position", () => {
    expect(() => debeziumOffsetView({ txId: 1 })).toThrow('the source offset has no lsn: {"txId":1}');
    expect(() => localOffsetView({ lsn: 5 })).toThrow('the source offset has no lsn: {"lsn":5}');
  });
});

describe("requestSnapshot on PostgreSQL", () => {
  const h = useHarness();

  it("reports a position before the request's own record and one at or past its commit", async () => {
    await h.db.query(
      "CREATE TABLE public.cdc_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))",
    );
    await h.db.query("SELECT pg_create_logical_replication_slot('request_positions', 'test_decoding')");
    const made = await requestSnapshot(
      h.db,
      "public.cdc_signal",
      ["public.items"],
      "00000000-0000-4000-8000-000000000001",
    );
    const { rows } = await h.db.query<{ lsn: string; data: string }>(
      "SELECT lsn::text AS lsn, data FROM pg_logical_slot_peek_changes('request_positions', NULL, NULL)",
    );
    const insert = rows.find((r) => r.data.startsWith("table public.cdc_signal: INSERT"))!;
    const commit = rows.find((r) => r.data.startsWith("COMMIT"))!;
    expect(insert.data).toContain("id[character varying]:'00000000-0000-4000-8000-000000000001'");
    expect(made.before).toBeLessThanOrEqual(parseLsn(insert.lsn));
    expect(made.lsn).toBeGreaterThanOrEqual(parseLsn(commit.lsn));
    await h.db.query("SELECT pg_drop_replication_slot('request_positions')");
  });
});
