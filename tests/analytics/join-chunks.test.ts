import { describe, expect, it } from "vitest";
import {
  fileChunks,
  JOIN_BYTES_PER_FACT,
  joinChunks,
  rowChunks,
  wholeWithin,
} from "../../analytics/src/scd2/join-chunks";

const MiB = 2 ** 20;
const benchmark = 8_600_000 * JOIN_BYTES_PER_FACT + 1_200_000 * (JOIN_BYTES_PER_FACT + 122);

describe("joinChunks", () => {
  it.each([
    ["nothing to join", 0, 1024 * MiB, false, 1],
    ["the benchmark under the default 1 GB limit (953.6 MiB)", benchmark, 953.6 * MiB, false, 1],
    ["the benchmark under 512 MB (488.2 MiB)", benchmark, 488.2 * MiB, false, 3],
    ["the same, facts in row order: twice as many pieces", benchmark, 488.2 * MiB, true, 6],
    ["facts in row order that fit: still one piece", benchmark, 953.6 * MiB, true, 1],
    ["exactly what is available", 768 * MiB, 1024 * MiB, false, 1],
    ["one byte more", 768 * MiB + 1, 1024 * MiB, false, 2],
    ["one byte more, in row order", 768 * MiB + 1, 1024 * MiB, true, 4],
    ["a limit below the reserve: a quarter of it is used", 10 * MiB, 100 * MiB, false, 1],
    ["a limit below the reserve, more to join", 26 * MiB, 100 * MiB, false, 2],
  ])("%s", (_name, bytes, limit, rowOrdered, chunks) => {
    expect(joinChunks(bytes, limit, rowOrdered)).toBe(chunks);
  });
});

describe("the pieces of the join", () => {
  it.each([
    [
      "five files in two pieces",
      ["a", "b", "c", "d", "e"],
      2,
      [
        { facts: "(_row >= 0 AND _row < 300)", input: "__source_file IN ('a', 'b', 'c')", first: true },
        { facts: "(_row >= 300 AND _row < 500)", input: "__source_file IN ('d', 'e')", first: false },
      ],
    ],
    [
      "more pieces than files: an empty piece reads nothing",
      ["it's"],
      2,
      [
        { facts: "(_row >= 0 AND _row < 100)", input: "__source_file IN ('it''s')", first: true },
        { facts: "(_row >= 100 AND _row < 100)", input: "false", first: false },
      ],
    ],
  ])("fileChunks: %s", (_name, keys, count, pieces) => {
    expect(fileChunks(keys, count, 100)).toEqual(pieces);
  });

  it.each([
    [
      "ten rows in three pieces",
      10,
      3,
      [
        { facts: "(_row >= 0 AND _row < 3)", input: "(_row >= 0 AND _row < 3)", first: true },
        { facts: "(_row >= 3 AND _row < 7)", input: "(_row >= 3 AND _row < 7)", first: false },
        { facts: "(_row >= 7 AND _row < 10)", input: "(_row >= 7 AND _row < 10)", first: false },
      ],
    ],
  ])("rowChunks: %s", (_name, rows, count, pieces) => {
    expect(rowChunks(rows, count)).toEqual(pieces);
  });

  it.each([
    ["two files (indexes repeated and unsorted)", [3, 0, 3], "__source_file IN ('a', 'd')"],
    ["no file: nothing is read", [], "false"],
  ])("wholeWithin: %s", (_name, indexes, input) => {
    expect(wholeWithin(["a", "b", "c", "d", "e"], indexes)).toEqual({ facts: "true", input, first: true });
  });

  it("wholeWithin refuses an index outside the files", () => {
    expect(() => wholeWithin(["a", "b"], [0, 2])).toThrow("no change file at index 2 of 2");
  });
});
