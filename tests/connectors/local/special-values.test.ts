/**
 * The pure value conversions behind the types of pg-special-types.ts and the temporal types, table-driven.
 * The expected dates and times far from 1970 are what Debezium 3.6.1 emitted for them (debezium-eras.test.ts
 * holds the runtime to it end to end).
 */
import { describe, expect, it } from "vitest";
import { jacksonString, javaDoubleString, javaHashMapOrder } from "../../../connectors/local/java-compat";
import { UnconvertibleValue } from "../../../connectors/local/pg-numeric";
import { bitsBytes, parseHstore, roundedDecimal } from "../../../connectors/local/pg-special-types";
import {
  epochMicros,
  epochMillis,
  formatZonedTime,
  jdbcDateDays,
  jdbcInstant,
  jdbcZonedTimestamp,
  parseDateDays,
  parseInstant,
  zonedTimestamp,
} from "../../../connectors/local/temporal";

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

describe("dates and times before year 1000 and after 9999", () => {
  it.each([
    ["0044-03-15 12:30:45.123456+00 BC", 6, "-0043-03-15T12:30:45.123456Z"],
    ["0044-03-15 12:30:45.123456+00 BC", 0, "-0043-03-15T12:30:45Z"],
    ["0001-12-31 23:59:59.999999+00 BC", 6, "0000-12-31T23:59:59.999999Z"],
    ["0001-12-31 23:30:00-01 BC", 6, "0001-01-01T00:30:00.000000Z"],
    ["0001-01-01 00:30:00+01", 3, "0000-12-31T23:30:00.000Z"],
    ["4713-01-01 00:00:00+00 BC", 6, "-4712-01-01T00:00:00.000000Z"],
    ["0999-12-31 23:59:59.5+00", 6, "0999-12-31T23:59:59.500000Z"],
    ["9999-12-31 23:30:00-01", 6, "+10000-01-01T00:30:00.000000Z"],
    ["10000-01-01 00:00:00.5+00", 0, "+10000-01-01T00:00:00Z"],
    ["294276-12-31 23:59:59.999999+00", 6, "+294276-12-31T23:59:59.999999Z"],
  ])(
    "timestamptz %s at precision %i → ZonedTimestamp %s (ISO years: 1 BC is 0000)",
    (text, precision, iso) => {
      expect(zonedTimestamp(text, precision)).toBe(iso);
    },
  );

  it.each([
    ["0044-03-15 12:30:45.123456 BC", -63517778954876544n, -63517778954877],
    ["0001-12-31 23:59:59.999999 BC", -62135596800000001n, -62135596800001],
    ["4713-01-01 00:00:00 BC", -210863520000000000n, -210863520000000],
    ["9999-12-31 23:59:59.999999", 253402300799999999n, 253402300799999],
    // Past 2^63 µs Debezium's seconds saturate to Long.MAX_VALUE and the micros added wrap around.
    ["294276-12-31 23:59:59.999999", -9223372036853775810n, 9224318015999999n],
  ])("timestamp %s → %s µs (MicroTimestamp), %s ms (Timestamp), exact", (text, micros, millis) => {
    expect(epochMicros(parseInstant(text))).toBe(micros);
    expect(epochMillis(parseInstant(text))).toBe(millis);
  });

  it.each([
    // Streamed: PostgreSQL's proleptic calendar. Snapshot (java.sql.Date): Julian before 1582-10-15, year of era.
    ["0044-03-15 BC", -735160, -703383],
    ["0001-12-31 BC", -719163, -718798],
    ["0001-01-01 BC", -719528, -719162],
    ["4713-01-01 BC", -2440550, 1001860],
    ["0999-12-31", -354286, -354286],
    ["1582-10-10", -141432, -141422],
    ["2024-02-29", 19782, 19782],
    ["5874897-12-31", 2145042905, 2145042905],
  ])("date %s → %i days streamed, %i in a snapshot or an array", (text, streamed, jdbc) => {
    expect(parseDateDays(text)).toBe(streamed);
    expect(jdbcDateDays(text)).toBe(jdbc);
  });

  it("29 February of 1 BC: PostgreSQL's day streamed; null (UnconvertibleValue) where the year of era is taken", () => {
    expect(parseDateDays("0001-02-29 BC")).toBe(-719469);
    expect(() => jdbcDateDays("0001-02-29 BC")).toThrow(UnconvertibleValue);
    expect(() => jdbcZonedTimestamp("0001-02-29 12:00:00+00 BC", 6)).toThrow(UnconvertibleValue);
    // At UTC the day is 1 March: nothing to refuse.
    expect(jdbcZonedTimestamp("0005-02-29 23:30:00-01 BC", 6)).toBe("0005-03-01T00:30:00.000000Z");
  });

  it.each([
    ["0044-03-15 12:30:45.123456 BC", -63517951754876544n],
    ["0001-12-31 23:59:59.999999 BC", -62135769600000001n],
    ["0001-01-01 00:00:00 BC", -62167392000000000n],
    ["4713-01-01 00:00:00 BC", -210866803200000000n],
    ["0001-01-01 00:00:00", -62135769600000000n],
    ["0999-12-31 23:59:59.5", -30609792000500000n],
    ["1582-10-10 12:00:00", -12218817600000000n],
    ["1582-10-15 00:00:00", -12219292800000000n],
    ["9999-12-31 23:59:59.999999", 253402300799999999n],
  ])("timestamp array element %s → %s µs (java.sql.Timestamp: Julian before 1582-10-15)", (text, micros) => {
    expect(epochMicros(jdbcInstant(text))).toBe(micros);
  });

  it.each([
    ["0044-03-15 12:30:45.123456+00 BC", "0044-03-15T12:30:45.123456Z"],
    ["0001-12-31 23:59:59.999999+00 BC", "0001-12-31T23:59:59.999999Z"],
    ["4713-01-01 00:00:00+00 BC", "4713-01-01T00:00:00.000000Z"],
    ["0001-01-01 00:30:00+01", "0001-12-31T23:30:00.000000Z"],
    ["0001-12-31 23:30:00-01 BC", "0001-01-01T00:30:00.000000Z"],
    ["1582-10-04 12:00:00+00", "1582-10-04T12:00:00.000000Z"],
    ["1582-10-10 12:00:00+00", "1582-10-20T12:00:00.000000Z"],
    ["9999-12-31 23:30:00-01", "+10000-01-01T00:30:00.000000Z"],
    ["294276-12-31 23:59:59.999999+00", "+294276-12-31T23:59:59.999999Z"],
  ])("timestamptz array element %s → %s (java.sql.Timestamp → LocalDateTime: year of era)", (text, iso) => {
    expect(jdbcZonedTimestamp(text, 6)).toBe(iso);
  });
});
