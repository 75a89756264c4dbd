/**
 * The capture path's pure pieces: WAL positions without BigInt, timestamptz rewritten in place (held to
 * the general conversion it replaces), replication frames, and Parquet rows staged as JSON columns (INT64s
 * beyond ±2^53 exactly, through to the file; a column with one value staged once; each writer lane's
 * staging file reused).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ConnectSchema } from "../../../connectors/local/connect-schema";
import { WalPosition } from "../../../connectors/local/lsn";
import { avroSchemaJson } from "../../../connectors/local/avro-schema";
import { jsonFormatLine } from "../../../connectors/local/json-writer";
import { ParquetWriter, stageRows } from "../../../connectors/local/parquet-writer";
import { errorMessage, standbyStatus } from "../../../connectors/local/replication";
import { formatZonedTimestamp, parseInstant, zonedTimestamp } from "../../../connectors/local/temporal";
import { parquetColumnTypes, readParquet } from "./harness";

describe("WalPosition", () => {
  it.each([
    [0, 0, 0, "0"],
    [0x16, 0xb374d848, 97_500_059_720, "97500059720"],
    [1, 0xffffffff, 8_589_934_591, "8589934591"],
    // 2^53 - 1: the largest exact number.
    [0x1fffff, 0xffffffff, 9_007_199_254_740_991, "9007199254740991"],
    // 2^53 + 1: the number rounds as Number(bigint) does, the text stays exact.
    [0x200000, 1, 9_007_199_254_740_992, "9007199254740993"],
    [0xffffffff, 0xffffffff, 18_446_744_073_709_552_000, "18446744073709551615"],
  ])("%s/%s: lsn %s, text %s", (high, low, lsn, text) => {
    const position = new WalPosition(high, low);
    expect(position.lsn).toBe(lsn);
    expect(position.text).toBe(text);
    expect(position.value()).toBe(BigInt(text));
    expect(position.lsn).toBe(Number(BigInt(text)));
  });
});

describe("zonedTimestamp", () => {
  it.each([
    ["2026-12-06 18:35:51.123456+00", 6, "2026-12-06T18:35:51.123456Z"],
    ["2026-12-06 18:35:51.1+00", 6, "2026-12-06T18:35:51.100000Z"],
    ["2026-12-06 18:35:51+00", 6, "2026-12-06T18:35:51.000000Z"],
    ["2026-12-06 18:35:51.987654+00", 3, "2026-12-06T18:35:51.987Z"],
    ["2026-12-06 18:35:51.5+00", 0, "2026-12-06T18:35:51Z"],
    ["0099-01-01 00:00:00+00", 6, "0099-01-01T00:00:00.000000Z"],
    ["2255-06-05 23:47:34.740991+00", 6, "2255-06-05T23:47:34.740991Z"],
    // Beyond ±2^53 µs, where floating-point microseconds would round the last digit.
    ["9400-05-16 08:56:12.209144+00", 5, "9400-05-16T08:56:12.20914Z"],
    // Not UTC text: the general path.
    ["2026-12-06 18:35:51.5+05:30", 6, "2026-12-06T13:05:51.500000Z"],
  ])("%s at precision %s → %s, as the general conversion gives", (text, precision, expected) => {
    expect(zonedTimestamp(text, precision)).toBe(expected);
    expect(zonedTimestamp(text, precision)).toBe(formatZonedTimestamp(parseInstant(text), precision));
  });

  it("equals the general conversion on 2,000 generated UTC timestamps (1000-9999 AD) at every precision", () => {
    let seed = 42;
    const next = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
    for (let i = 0; i < 2000; i += 1) {
      const year = 1000 + next(9000);
      const month = 1 + next(12);
      const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      const day = 1 + next([31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!);
      const digits = next(7);
      const fraction =
        digits === 0 ? "" : `.${String(next(10 ** digits)).padStart(digits, "0")}`.replace(/0+$/, "");
      const text = `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(next(24))}:${pad(next(60))}:${pad(next(60))}${fraction === "." ? "" : fraction}+00`;
      for (let precision = 0; precision <= 6; precision += 1) {
        expect(zonedTimestamp(text, precision), text).toBe(
          formatZonedTimestamp(parseInstant(text), precision),
        );
      }
    }
  });
});

describe("replication frames", () => {
  it("a standby status update confirms lsn + 1 as written, flushed and applied, with the clock in µs since 2000", () => {
    const frame = standbyStatus(0x16_b374d848n, 946_684_800_000 + 1_500);
    expect(frame.toString("hex")).toBe(
      [
        "64", // CopyData
        "00000026", // length 38
        "72", // 'r'
        "00000016b374d849".repeat(3),
        "000000000016e360", // 1,500,000 µs
        "00", // no reply requested
      ].join(""),
    );
  });

  it.each([
    [
      Buffer.from('SERROR\0C55006\0Mreplication slot "s" is active for PID 7\0\0'),
      'replication slot "s" is active for PID 7',
    ],
    [Buffer.from("SERROR\0C08P01\0\0"), "unknown error"],
    [Buffer.from("SERROR\0Mcut"), "unknown error"],
  ])("an ErrorResponse's message field: %#", (body, expected) => {
    expect(errorMessage(body)).toBe(expected);
  });
});

describe("stageRows", () => {
  const decimal: ConnectSchema = {
    type: "BYTES",
    optional: true,
    name: "org.apache.kafka.connect.data.Decimal",
    parameters: { scale: "2" },
  };
  const schema: ConnectSchema = {
    type: "STRUCT",
    optional: false,
    fields: [
      { name: "id", schema: { type: "INT32", optional: false } },
      { name: "price", schema: decimal },
      { name: "raw", schema: { type: "BYTES", optional: true } },
      {
        name: "tags",
        schema: { type: "ARRAY", optional: true, valueSchema: { type: "STRING", optional: true } },
      },
      {
        name: "attrs",
        schema: {
          type: "MAP",
          optional: true,
          keySchema: { type: "STRING", optional: false },
          valueSchema: { type: "STRING", optional: true },
        },
      },
      { name: "note", schema: { type: "STRING", optional: true } },
    ],
  };

  it("writes one object of columns per line: decimals as plain text, bytes as base64, maps as entries, absent as null", () => {
    const staged = stageRows(schema, [
      {
        id: 1,
        price: { kind: "decimal", unscaled: -1205n, scale: 2 },
        raw: Buffer.from([0xde, 0xad]),
        tags: ["a", null],
        attrs: new Map([["k", "v"]]),
        note: 'say "hi"\n',
      },
      { id: 2, price: null, raw: null, tags: null, attrs: null },
    ]);
    const line =
      '{"id":[1,2],"price":["-12.05",null],"raw":["3q0=",null],"tags":[["a",null],null],' +
      '"attrs":[[{"key":"k","value":"v"}],null],"note":["say \\"hi\\"\\n",null]}\n';
    expect(staged).toEqual({
      lines: [line],
      longest: line.length,
      constant: [false, false, false, false, false, false],
    });
  });

  const flat: ConnectSchema = {
    type: "STRUCT",
    optional: false,
    fields: [
      { name: "id", schema: { type: "INT32", optional: false } },
      { name: "op", schema: { type: "STRING", optional: false } },
      { name: "big", schema: { type: "INT64", optional: true } },
      { name: "ratio", schema: { type: "FLOAT64", optional: true } },
      { name: "ok", schema: { type: "BOOLEAN", optional: true } },
      { name: "note", schema: { type: "STRING", optional: true } },
      { name: "raw", schema: { type: "BYTES", optional: true } },
    ],
  };

  it.each([
    [
      "a column with one value (absent counts as null) is staged once as that value",
      [
        { id: 1, op: "u", big: 9223372036854775807n, ratio: 0.5, ok: true, raw: Buffer.from([1]) },
        {
          id: 2,
          op: "u",
          big: 9223372036854775807n,
          ratio: 0.5,
          ok: true,
          note: null,
          raw: Buffer.from([1]),
        },
      ],
      '{"id":[1,2],"op":"u","big":"9223372036854775807","ratio":0.5,"ok":true,"note":null,"raw":["AQ==","AQ=="]}\n',
      [false, true, true, true, true, true, false],
    ],
    [
      "values that differ anywhere stay lists (the first row against the last; 1 against 1n)",
      [
        { id: 1, op: "u", big: 1, ratio: 0.5, ok: true, note: "a" },
        { id: 2, op: "u", big: 1n, ratio: 0.5, ok: false, note: "a" },
        { id: 3, op: "d", big: 1, ratio: 0.25, ok: true, note: null },
      ],
      '{"id":[1,2,3],"op":["u","u","d"],"big":[1,"1",1],"ratio":[0.5,0.5,0.25],"ok":[true,false,true],' +
        '"note":["a","a",null],"raw":null}\n',
      [false, false, false, false, false, false, true],
    ],
    [
      "every column constant: the first stays a list, which gives the line its rows",
      [
        { id: 7, op: "r" },
        { id: 7, op: "r" },
      ],
      '{"id":[7,7],"op":"r","big":null,"ratio":null,"ok":null,"note":null,"raw":null}\n',
      [false, true, true, true, true, true, true],
    ],
    [
      "one row: nothing to repeat, every column a list",
      [{ id: 7, op: "r" }],
      '{"id":[7],"op":["r"],"big":[null],"ratio":[null],"ok":[null],"note":[null],"raw":[null]}\n',
      [false, false, false, false, false, false, false],
    ],
  ])("%s", (_, rows, line, constant) => {
    expect(stageRows(flat, rows as Parameters<typeof stageRows>[1])).toEqual({
      lines: [line],
      longest: line.length,
      constant,
    });
  });

  it("writes constant columns to Parquet exactly as lists of the same values, across lines of 10,000 rows", async () => {
    const row = {
      op: "u",
      big: -9007199254740993n,
      ratio: 0.1,
      ok: false,
      note: null,
      raw: Buffer.from("hi"),
    };
    // 10,001 rows (two lines) in which every column but id holds one value, and the same rows with one
    // more that differs in every column: nothing constant there.
    const rows = Array.from({ length: 10_001 }, (_, i) => ({ id: i, ...row }));
    const other = { id: -1, op: "d", big: 2, ratio: 2.5, ok: true, note: "x", raw: Buffer.from("yo") };
    const elided = stageRows(flat, rows);
    const listed = stageRows(flat, [...rows, other]);
    expect(elided.constant).toEqual([false, true, true, true, true, true, false]);
    expect(elided.lines).toHaveLength(2);
    expect(listed.constant.some(Boolean)).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), "cdc-constant-"));
    const writer = await ParquetWriter.open();
    try {
      await writer.write(join(dir, "elided.parquet"), flat, elided, "snappy");
      await writer.write(join(dir, "listed.parquet"), flat, listed, "snappy");
      const columns = "id, op, big::VARCHAR AS big, ratio, ok, note, raw::VARCHAR AS raw";
      const { rows: a } = await readParquet([join(dir, "elided.parquet")], columns);
      const { rows: b } = await readParquet([join(dir, "listed.parquet")], columns);
      expect(a).toHaveLength(10_001);
      expect(a[10_000]).toEqual({
        id: 10_000,
        op: "u",
        big: "-9007199254740993",
        ratio: 0.1,
        ok: false,
        note: null,
        raw: "hi",
      });
      expect(a).toEqual(b.slice(0, 10_001));
      expect(await parquetColumnTypes(join(dir, "elided.parquet"))).toEqual(
        await parquetColumnTypes(join(dir, "listed.parquet")),
      );
    } finally {
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts a new line every 10,000 rows, in row order", () => {
    const ids: ConnectSchema = {
      type: "STRUCT",
      optional: false,
      fields: [{ name: "id", schema: { type: "INT32", optional: false } }],
    };
    const rows = Array.from({ length: 10_001 }, (_, i) => ({ id: i }));
    const staged = stageRows(ids, rows);
    expect(staged.lines.length).toBe(2);
    expect(JSON.parse(staged.lines[0]!)).toEqual({ id: rows.slice(0, 10_000).map((r) => r.id) });
    expect(staged.lines[1]).toBe('{"id":[10000]}\n');
    expect(staged.longest).toBe(staged.lines[0]!.length);
  });

  it("stages each lane's files over one staging file, cut to each file's rows, and removes only its own on close", async () => {
    const ids: ConnectSchema = {
      type: "STRUCT",
      optional: false,
      fields: [{ name: "id", schema: { type: "INT32", optional: false } }],
    };
    const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ id: from + i }));
    const dir = mkdtempSync(join(tmpdir(), "cdc-stage-"));
    // Another writer's file in the same folder: not this writer's to remove.
    writeFileSync(join(dir, ".tmp-other.json"), "{}");
    const writer = await ParquetWriter.open();
    try {
      // One at a time, so every write takes the first lane and its staging file: a large file, then a
      // smaller one, whose staged text is shorter than what the staging file held.
      const files = [
        { name: "a.parquet", rows: rows(25_000, 0) },
        { name: "b.parquet", rows: rows(3, 100) },
        { name: "c.parquet", rows: rows(12_000, 200) },
      ];
      for (const file of files)
        await writer.write(join(dir, file.name), ids, stageRows(ids, file.rows), "snappy");
      for (const file of files) {
        const { rows: read } = await readParquet([join(dir, file.name)], "id");
        expect(read).toEqual(file.rows);
      }
      const staging = readdirSync(dir).filter((name) => /^\.tmp-[0-9a-f]{12}-stage\d\.json$/.test(name));
      expect(staging).toHaveLength(1);
      expect(readFileSync(join(dir, staging[0]!), "utf8")).toBe(
        stageRows(ids, files[2]!.rows).lines.join(""),
      );
    } finally {
      await writer.close();
    }
    expect(readdirSync(dir).sort()).toEqual([".tmp-other.json", "a.parquet", "b.parquet", "c.parquet"]);
    await expect(
      writer.write(join(dir, "d.parquet"), ids, stageRows(ids, rows(1, 0)), "snappy"),
    ).rejects.toThrow("the Parquet writer is closed");
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps INT64s beyond ±2^53 (bigints) exact: staged as digits, in JSON files, Parquet files and the Avro schema's default", async () => {
    const micros: ConnectSchema = {
      type: "INT64",
      optional: true,
      name: "io.debezium.time.MicroTimestamp",
      version: 1,
    };
    const withBigints: ConnectSchema = {
      type: "STRUCT",
      optional: false,
      fields: [
        { name: "ts", schema: { ...micros, defaultValue: -62135596800000001n } },
        { name: "ts_arr", schema: { type: "ARRAY", optional: true, valueSchema: micros } },
        // A plain int8 column (no logical name) holds bigints beyond ±2^53 too.
        { name: "id", schema: { type: "INT64", optional: false } },
      ],
    };
    const rows = [
      { ts: -9223372036853775810n, ts_arr: [253402300799999999n, 1, null], id: 9223372036854775807n },
      { ts: 5, ts_arr: null, id: -9007199254740993n },
    ];
    expect(avroSchemaJson(withBigints)).toContain(
      '"connect.default":-62135596800000001,"connect.name":"io.debezium.time.MicroTimestamp"},"null"],"default":-62135596800000001}',
    );
    expect(jsonFormatLine(rows[0]!, withBigints, "NUMERIC")).toBe(
      '{"ts":-9223372036853775810,"ts_arr":[253402300799999999,1,null],"id":9223372036854775807}',
    );
    const staged = stageRows(withBigints, rows);
    expect(staged.lines).toEqual([
      '{"ts":["-9223372036853775810",5],"ts_arr":[["253402300799999999",1,null],null],"id":["9223372036854775807","-9007199254740993"]}\n',
    ]);
    const dir = mkdtempSync(join(tmpdir(), "cdc-bigint-"));
    const writer = await ParquetWriter.open();
    try {
      const file = join(dir, "t.parquet");
      await writer.write(file, withBigints, staged, "snappy");
      const { rows: read } = await readParquet(
        [file],
        "ts::VARCHAR AS ts, ts_arr::VARCHAR AS ts_arr, id::VARCHAR AS id",
      );
      expect(read).toEqual([
        { ts: "-9223372036853775810", ts_arr: "[253402300799999999, 1, NULL]", id: "9223372036854775807" },
        { ts: "5", ts_arr: null, id: "-9007199254740993" },
      ]);
    } finally {
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
