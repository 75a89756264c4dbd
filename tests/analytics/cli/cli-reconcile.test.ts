// `cdc-scd2 run --reconcile`: the window of a complete snapshot after a gap, as cdc-resnapshot reports it;
// the run closes the keys absent from it and reports how many, in its JSON log and on a terminal.
import { existsSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { changeRow, jsonLines, readScd2, runCli, useFixtureCases, writeChangeFile } from "./cli-helpers";

const { fixture } = useFixtureCases("cli-reconcile-");
const TYPES = ["--column-type", "commerce.products.created_at=micro-timestamp"];
const T0 = Date.UTC(2026, 0, 1);

/** The fixture's products (1 current, 2 deleted, 3 current), then a snapshot after commit 500 reading only 1. */
function withSnapshot(): { source: string; output: string } {
  const cases = fixture();
  const read = changeRow("r", "products", 0, T0 + 600_000, {
    id: 1,
    name: "desk",
    price: 99,
    created_at: T0 * 1000,
  });
  writeChangeFile(cases.source, "cdc.commerce.products", 0, 5, [
    { ...read, __lsn: null, __txId: null, __sequence: JSON.stringify(["500", "500"]) },
  ]);
  return cases;
}

/** `cdc-scd2 run` of the products table over the snapshot fixture, with `extra` arguments. */
function runOnSnapshot(
  extra: string[] = [],
): Promise<{ output: string; result: Awaited<ReturnType<typeof runCli>> }> {
  const { source, output } = withSnapshot();
  const args = ["run", "--source", source, "--output", output, "--tables", "commerce.products", ...TYPES];
  return runCli([...args, ...extra]).then((result) => ({ output, result }));
}

describe("cdc-scd2 run --reconcile", () => {
  it("closes the keys the snapshot no longer shows and reports how many (JSON log)", async () => {
    const { output, result } = await runOnSnapshot(["--reconcile", "commerce.products:0/1F4:0/258"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const done = jsonLines(result.stdout).filter((l) => l.msg === "table done");
    expect(done.map((l) => [l.table, l.inferredDeletes, l.current, l.deleted])).toEqual([
      ["commerce.products", 1, 1, 2],
    ]);
    // 1 (two versions), 2 (deleted), 3 (closed as an inferred delete).
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 1,
      deleted: 2,
    });
  });

  it("without --reconcile the same files infer nothing", async () => {
    const { result } = await runOnSnapshot();
    expect(result.code).toBe(0);
    const done = jsonLines(result.stdout).filter((l) => l.msg === "table done");
    expect(done.map((l) => [l.inferredDeletes, l.current, l.deleted])).toEqual([[undefined, 2, 1]]);
  });

  it("a window with no read of the table: exit 1 naming it, nothing written", async () => {
    const { output, result } = await runOnSnapshot(["--reconcile", "commerce.products:0/2000:0/3000"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "commerce.products: no snapshot read between requestedAt and doneAt (positions 8192..12288) in its change files",
    );
    expect(existsSync(path.join(output, "_state", "manifest.json"))).toBe(false);
  });
});
