import { describe, expect, it } from "vitest";
import { median } from "../../bench/scd2/report";

describe("median (the figure of a benchmark run in rounds)", () => {
  it.each([
    ["one value", [7], 7],
    ["odd count, unsorted", [30, 10, 20], 20],
    ["even count: the mean of the middle two", [4, 1, 3, 2], 2.5],
    ["an outlier does not move it", [28_000, 29_000, 41_000], 29_000],
    ["equal values", [5, 5, 5, 5], 5],
  ])("%s", (_name, values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it("refuses no values", () => {
    expect(() => median([])).toThrow("median of no values");
  });
});
