// The facts of a join back in pieces, written once under one folder per piece (join-back.ts).
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Duck } from "../../analytics/src/duck";
import { partitionFacts } from "../../analytics/src/scd2/join-back";
import { rowChunks } from "../../analytics/src/scd2/join-chunks";
import { tempDir } from "./helpers/fixtures";

async function withDuck<T>(body: (duck: Duck, dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir("scd2-join-back-");
  const duck = await Duck.open({ workDir: dir });
  try {
    return await body(duck, dir);
  } finally {
    duck.close();
  }
}

describe("partitionFacts", () => {
  it("gives each piece exactly the facts of its rows", async () => {
    await withDuck(async (duck, dir) => {
      await duck.run("CREATE TABLE facts AS SELECT range AS _row, range * 10 AS v FROM range(1000)");
      const pieces = rowChunks(1000, 3);
      const factsOf = await partitionFacts(duck, "SELECT * FROM facts", pieces, path.join(dir, "pieces"));
      const got = [];
      for (const index of pieces.keys())
        got.push(
          await duck.rows(
            `SELECT min(_row)::INTEGER AS lo, max(_row)::INTEGER AS hi, count(*)::INTEGER AS n, sum(v) = sum(_row) * 10 AS same FROM (${factsOf(index)})`,
          ),
        );
      expect(got.flat()).toEqual([
        { lo: 0, hi: 332, n: 333, same: true },
        { lo: 333, hi: 666, n: 334, same: true },
        { lo: 667, hi: 999, n: 333, same: true },
      ]);
      // Only the facts' own columns: the piece number is not one of them.
      const columns = await duck.rows(`DESCRIBE ${factsOf(1)}`);
      expect(columns.map((c) => c.column_name)).toEqual(["_row", "v"]);
    });
  });

  it("with no facts at all (every version on the exact path), every piece reads none", async () => {
    await withDuck(async (duck, dir) => {
      await duck.run(
        "CREATE TABLE facts AS SELECT range AS _row, range * 10 AS v FROM range(1000) WHERE false",
      );
      const pieces = rowChunks(1000, 2);
      const factsOf = await partitionFacts(duck, "SELECT * FROM facts", pieces, path.join(dir, "pieces"));
      for (const index of pieces.keys())
        expect(await duck.count(`SELECT count(*) FROM (${factsOf(index)})`)).toBe(0);
    });
  });
});
