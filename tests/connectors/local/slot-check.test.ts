import { describe, expect, it } from "vitest";
import { slotProblem } from "../../../connectors/local/slot-check";

const slot = (confirmed: string | null, walStatus = "reserved", database = "shop") => ({
  confirmed_flush_lsn: confirmed,
  wal_status: walStatus,
  database,
});

describe("slotProblem: may streaming continue from the stored offset 0/1000?", () => {
  it.each<[string, ReturnType<typeof slot> | undefined, string | undefined]>([
    ["the slot at the acknowledged position (stored + 1)", slot("0/1001"), undefined],
    ["the slot behind the stored offset (not acknowledged yet)", slot("0/F00"), undefined],
    ["the slot exactly at the stored offset", slot("0/1000"), undefined],
    ["a slot with WAL status extended", slot("0/1001", "extended"), undefined],
    [
      "a slot that is gone",
      undefined,
      'replication slot "s" does not exist, but the offsets say streaming reached 0/1000',
    ],
    ["an invalidated slot", slot("0/1001", "lost"), 'replication slot "s" is invalidated (wal_status lost'],
    [
      "a slot ahead of the offsets",
      slot("0/1002"),
      'replication slot "s" starts at 0/1002, after the stored offset 0/1000',
    ],
    [
      "a slot of another database",
      slot("0/1001", "reserved", "other"),
      'belongs to database "other", not "shop"',
    ],
  ])("%s", (_what, row, problem) => {
    const found = slotProblem("s", 0x1000n, row, "shop");
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
