import { describe, expect, it } from "vitest";
import { COMPACT_AT } from "../../analytics/src/scd2/compact";
import { mergeKeyFiles } from "../../analytics/src/scd2/key-state";

describe("mergeKeyFiles: when the key state's updates are merged into its base", () => {
  const cases: [string, number[], number, boolean][] = [
    ["a first small update is kept apart", [1000], 10, false],
    ["an update of a quarter of the base is merged", [1000], 250, true],
    ["one key short of a quarter is kept apart", [1000], 249, false],
    ["earlier updates count with the new one", [1000, 100, 100], 50, true],
    ["earlier updates short of a quarter with it", [1000, 100, 100], 49, false],
    ["an empty base: any update merges", [0], 0, true],
    ["the list reaching COMPACT_AT files is merged", [1_000_000, ...Array(COMPACT_AT - 2).fill(1)], 1, true],
    ["one file short of COMPACT_AT is kept apart", [1_000_000, ...Array(COMPACT_AT - 3).fill(1)], 1, false],
  ];
  it.each(cases)("%s", (_name, rows, added, merged) => {
    expect(mergeKeyFiles(rows, added)).toBe(merged);
  });
});
