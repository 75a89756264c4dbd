/**
 * The pgoutput decoder on messages built byte by byte as the protocol documents them
 * (protocol-logicalrep-message-formats): each message decodes to exactly the expected value, and a
 * malformed one fails naming what is wrong.
 */
import { describe, expect, it } from "vitest";
import { PgoutputDecoder, type PgoutputMessage } from "../../../connectors/local/pgoutput";

const u8 = (n: number): Buffer => Buffer.from([n]);
const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const cstr = (s: string): Buffer => Buffer.from(`${s}\0`);
const tag = (c: string): Buffer => Buffer.from(c, "ascii");

/** TupleData: each value a string (text), null ('n') or "u" for an unchanged TOASTed value. */
type Value = string | null | { unchanged: true };
const UNCHANGED: Value = { unchanged: true };
function tuple(values: Value[]): Buffer {
  const parts = [i16(values.length)];
  for (const v of values) {
    if (v === null) parts.push(tag("n"));
    else if (typeof v === "object") parts.push(tag("u"));
    else {
      const bytes = Buffer.from(v, "utf8");
      parts.push(tag("t"), i32(bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}

const OID = 16_385;
/** Relation `shop.items (id int4 key, name text, note text)`. */
const RELATION = Buffer.concat([
  tag("R"),
  i32(OID),
  cstr("shop"),
  cstr("items"),
  tag("d"),
  i16(3),
  u8(1),
  cstr("id"),
  i32(23),
  i32(-1),
  u8(0),
  cstr("name"),
  i32(25),
  i32(-1),
  u8(0),
  cstr("note"),
  i32(25),
  i32(44),
]);

function decoded(...messages: Buffer[]): PgoutputMessage[] {
  const decoder = new PgoutputDecoder();
  // Each message sits inside a larger buffer, as in a socket chunk: the decoder reads only its range.
  return messages.map((m) => {
    const buf = Buffer.concat([Buffer.from("junk"), m, Buffer.from("tail")]);
    return decoder.decode(buf, 4, 4 + m.length);
  });
}

describe("PgoutputDecoder", () => {
  it("Begin: commit time in microseconds since 1970 and the xid", () => {
    // 2026-01-01T00:00:00Z is 820,540,800 s after 2000-01-01.
    const begin = Buffer.concat([tag("B"), u64(0x16b374d848n), u64(820_540_800_000_000n + 123n), i32(771)]);
    expect(decoded(begin)).toEqual([{ tag: "begin", commitUs: 1_767_225_600_000_123, xid: 771 }]);
  });

  it.each([
    ["an end LSN", 0x1_0000_0010n, 0x1_0000_0010n],
    ["0/0 as end LSN", 0n, null],
  ])("Commit with %s", (_label, end, expected) => {
    const commit = Buffer.concat([tag("C"), u8(0), u64(0x1_0000_0000n), u64(end), u64(5n)]);
    expect(decoded(commit)).toEqual([{ tag: "commit", endLsn: expected }]);
  });

  it("Relation: columns with flags, type and modifier; the key columns by flag", () => {
    const [relation] = decoded(RELATION);
    expect(relation).toEqual({
      tag: "relation",
      relationOid: OID,
      schema: "shop",
      name: "items",
      columns: [
        { flags: 1, name: "id", typeOid: 23, typeMod: -1 },
        { flags: 0, name: "name", typeOid: 25, typeMod: -1 },
        { flags: 0, name: "note", typeOid: 25, typeMod: 44 },
      ],
      keyColumns: ["id"],
    });
  });

  const insert = (values: Value[]) => Buffer.concat([tag("I"), i32(OID), tag("N"), tuple(values)]);
  const cases: { name: string; message: Buffer; expected: Record<string, unknown> }[] = [
    {
      name: "Insert: text and null values, multi-byte UTF-8 kept",
      message: insert(["1", "crème brûlée ☕", null]),
      expected: { tag: "insert", new: { id: "1", name: "crème brûlée ☕", note: null } },
    },
    {
      name: "Insert: a leading byte-order mark is dropped (as TextDecoder, the earlier decoder, did)",
      message: insert(["2", "\uFEFFbom", "x"]),
      expected: { tag: "insert", new: { id: "2", name: "bom", note: "x" } },
    },
    {
      name: "Update without old tuple: an unchanged TOASTed value is undefined",
      message: Buffer.concat([tag("U"), i32(OID), tag("N"), tuple(["3", "n", UNCHANGED])]),
      expected: { tag: "update", key: null, old: null, new: { id: "3", name: "n", note: undefined } },
    },
    {
      name: "Update with the old key (K): the key columns only",
      message: Buffer.concat([
        tag("U"),
        i32(OID),
        tag("K"),
        tuple(["4", null, null]),
        tag("N"),
        tuple(["5", "n", "o"]),
      ]),
      expected: { tag: "update", key: { id: "4" }, old: null, new: { id: "5", name: "n", note: "o" } },
    },
    {
      name: "Update with the old row (O): an unchanged TOASTed value is the old row's",
      message: Buffer.concat([
        tag("U"),
        i32(OID),
        tag("O"),
        tuple(["6", "old", "big"]),
        tag("N"),
        tuple(["6", "new", UNCHANGED]),
      ]),
      expected: {
        tag: "update",
        key: null,
        old: { id: "6", name: "old", note: "big" },
        new: { id: "6", name: "new", note: "big" },
      },
    },
    {
      name: "Delete with the old key (K)",
      message: Buffer.concat([tag("D"), i32(OID), tag("K"), tuple(["7", null, null])]),
      expected: { tag: "delete", key: { id: "7" }, old: null },
    },
    {
      name: "Delete with the old row (O)",
      message: Buffer.concat([tag("D"), i32(OID), tag("O"), tuple(["8", "a", null])]),
      expected: { tag: "delete", key: null, old: { id: "8", name: "a", note: null } },
    },
  ];
  it.each(cases)("$name", ({ message, expected }) => {
    const [relation, change] = decoded(RELATION, message);
    expect({ ...change, relation: undefined }).toEqual({ ...expected, relation: undefined });
    expect((change as { relation: unknown }).relation).toBe(relation);
  });

  it("a key tuple has no non-key column at all (not even one named like Object.prototype's)", () => {
    const [, change] = decoded(
      RELATION,
      Buffer.concat([tag("D"), i32(OID), tag("K"), tuple(["9", null, null])]),
    );
    const key = (change as { key: Record<string, unknown> }).key;
    expect(Object.keys(key)).toEqual(["id"]);
    expect(key.name).toBeUndefined();
  });

  it("a column named __proto__ is a value, not the tuple's prototype", () => {
    const relation = Buffer.concat([
      tag("R"),
      i32(9),
      cstr("s"),
      cstr("t"),
      tag("f"),
      i16(1),
      u8(1),
      cstr("__proto__"),
      i32(25),
      i32(-1),
    ]);
    const [, change] = decoded(relation, Buffer.concat([tag("I"), i32(9), tag("N"), tuple(["v"])]));
    const row = (change as { new: Record<string, unknown> }).new;
    expect(Object.getOwnPropertyNames(row)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).toBe("v");
  });

  it.each([
    ["T", "truncate"],
    ["Y", "type"],
    ["O", "origin"],
    ["M", "message"],
  ])("%s decodes to its tag only", (letter, expected) => {
    expect(decoded(Buffer.concat([tag(letter), Buffer.alloc(8)]))).toEqual([{ tag: expected }]);
  });

  it.each([
    ["an unknown message", Buffer.concat([tag("Z")]), "pgoutput: unknown message Z"],
    [
      "a change before its Relation",
      insert(["1", "a", "b"]),
      "pgoutput: change of relation 16385 before its Relation message",
    ],
    ["a cut value", insert(["1", "a", "b"]).subarray(0, 20), "pgoutput: unexpected end of message"],
    [
      "an unknown value kind",
      Buffer.concat([tag("I"), i32(OID), tag("N"), i16(1), tag("x")]),
      "pgoutput: unknown column value kind x",
    ],
    [
      "an unknown update submessage",
      Buffer.concat([tag("U"), i32(OID), tag("Q")]),
      "pgoutput: unknown update submessage Q",
    ],
  ])("%s fails naming it", (label, message, error) => {
    const decoder = new PgoutputDecoder();
    if (label !== "a change before its Relation") decoder.decode(RELATION, 0, RELATION.length);
    expect(() => decoder.decode(message, 0, message.length)).toThrow(error);
  });
});
