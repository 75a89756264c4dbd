/** The pure value conversions behind the types of pg-special-types.ts and timetz, table-driven. */
import { describe, expect, it } from "vitest";
import { jacksonString, javaDoubleString, javaHashMapOrder } from "../../../connectors/local/java-compat";
import { bitsBytes, parseHstore, roundedDecimal } from "../../../connectors/local/pg-special-types";
import { formatZonedTime } from "../../../connectors/local/temporal";

describe("Java behaviours Debezium's output shows", () => {
  it.each([
    // Expected orders from a simulation of java.util.HashMap (put + resize), not from this code.
    [
      ["b", "q", "aa", "key with space", "Zürich"],
      ["aa", "q", "b", "key with space", "Zürich"],
    ],
    // 16 keys: resized to 32 buckets; "Aa"/"BB" collide (insertion order kept); a negative hash.
    [
      [...Array.from({ length: 13 }, (_, i) => `k${i}`), "Aa", "BB", "polygenelubricants"],
      [
        "Aa",
        "BB",
        "polygenelubricants",
        "k0",
        "k1",
        "k2",
        "k3",
        "k4",
        "k5",
        "k11",
        "k6",
        "k10",
        "k7",
        "k8",
        "k12",
        "k9",
      ],
    ],
  ])("HashMap iteration order of %j", (keys, expected) => {
    expect(javaHashMapOrder(keys)).toEqual(expected);
  });

  it.each([
    [1234.5, "1234.5"],
    [100, "100.0"],
    [0.001, "0.001"],
    [0.0001, "1.0E-4"],
    [1e7, "1.0E7"],
    [-123456789.12, "-1.2345678912E8"],
    [0, "0.0"],
  ])("Double.toString(%d) = %s", (value, expected) => {
    expect(javaDoubleString(value)).toBe(expected);
  });

  it("Jackson string escaping: short escapes, other control characters as upper-case \\u00XX, the rest as is", () => {
    expect(jacksonString('a"\\\u0001\u001f\n\t/é')).toBe('"a\\"\\\\\\u0001\\u001F\\n\\t/é"');
  });
});

describe("value conversions", () => {
  it.each([
    ["1", "01"],
    ["101", "05"],
    ["000", ""],
    ["1000000000000001", "0180"],
    ["10000000000000000", "000001"],
  ])("bit string %s → Bits bytes %s (BitSet.toByteArray, little-endian)", (text, hex) => {
    expect(bitsBytes(text).toString("hex")).toBe(hex);
  });

  it.each([
    ["1234.5", 2, 123450n],
    ["-0.075", 2, -8n],
    ["0.074", 2, 7n],
    ["1.0E7", 2, 1000000000n],
    ["9.2233720368547758E16", 2, 9223372036854775800n],
  ])("%s rounded HALF_UP to scale %d → unscaled %d", (text, scale, unscaled) => {
    expect(roundedDecimal(text, scale)).toEqual({ kind: "decimal", unscaled, scale });
  });

  it.each([
    ["13:45:00.5+02", "11:45:00.5Z"],
    ["23:30:00-01:30", "01:00:00Z"],
    ["00:00:00+00", "00:00:00Z"],
    ["12:00:00.123456+05:30:15", "06:29:45.123456Z"],
    ["10:15:30.120+00", "10:15:30.12Z"],
  ])("timetz %s → ZonedTime %s", (text, expected) => {
    expect(formatZonedTime(text)).toBe(expected);
  });

  it("hstore text → entries in HashMap order, NULL values, escaped quotes and backslashes", () => {
    expect([...parseHstore('"b"=>NULL, "q"=>"say \\"hi\\" \\\\", "aa"=>"1"')]).toEqual([
      ["aa", "1"],
      ["q", 'say "hi" \\'],
      ["b", null],
    ]);
    expect(parseHstore("").size).toBe(0);
    expect(() => parseHstore('"a"=>"1", oops')).toThrow(/not an hstore value at offset 9/);
  });
});
