// Connect's Decimal: the unscaled value as a big-endian two's-complement byte string of 1..16 bytes
// (BigInteger.toByteArray, the minimal length), decoded exactly by the job's SQL and by the real job.
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { DECODE_MACROS, decodeExpression } from "../../analytics/src/decode/columns";
import { Scd2Error } from "../../analytics/src/job";
import { SourceBucket, at, query, run, tempDir } from "./helpers/fixtures";

/** BigInteger.toByteArray: the shortest two's-complement big-endian bytes of `value`. */
function toByteArray(value: bigint): Buffer {
  let length = 1;
  while (value < -(1n << BigInt(8 * length - 1)) || value >= 1n << BigInt(8 * length - 1)) length++;
  let unsigned = value < 0n ? (1n << BigInt(8 * length)) + value : value;
  const bytes = Buffer.alloc(length);
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(unsigned & 0xffn);
    unsigned >>= 8n;
  }
  return bytes;
}

const blob = (bytes: Buffer): string =>
  `'${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, "0").toUpperCase()}`).join("")}'::BLOB`;

const MAX_38 = 10n ** 38n - 1n;
const cases: { name: string; value: bigint; bytes: number }[] = [
  { name: "0", value: 0n, bytes: 1 },
  { name: "-1", value: -1n, bytes: 1 },
  { name: "10^38 - 1", value: MAX_38, bytes: 16 },
  { name: "-(10^38 - 1)", value: -MAX_38, bytes: 16 },
  { name: "-2^127", value: -(1n << 127n), bytes: 16 },
  { name: "2^127 - 1", value: (1n << 127n) - 1n, bytes: 16 },
];
// Per byte length: the largest and smallest value of that length, and one more of each sign inside it.
for (let n = 1; n <= 16; n++) {
  const top = 1n << BigInt(8 * n - 1);
  cases.push(
    { name: `${n}-byte max 2^${8 * n - 1} - 1`, value: top - 1n, bytes: n },
    { name: `${n}-byte min -2^${8 * n - 1}`, value: -top, bytes: n },
    { name: `${n}-byte positive`, value: top / 2n + top / 4n + 1n, bytes: n },
    { name: `${n}-byte negative`, value: -(top / 2n) - top / 4n - 1n, bytes: n },
  );
}

async function withDuck<T>(action: (sql: (q: string) => Promise<unknown[]>) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  try {
    await connection.run(DECODE_MACROS);
    return await action(async (q) =>
      Object.values((await connection.runAndReadAll(q)).getRowObjectsJson()[0]!),
    );
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** The unscaled value as DECIMAL(38, scale) text, as DuckDB prints it. */
function decimalText(value: bigint, scale: number): string {
  const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return value < 0n ? `-${text}` : text;
}

describe("scd2_unscaled on every byte length", () => {
  it.each(cases)("$name", async ({ value, bytes }) => {
    const encoded = toByteArray(value);
    expect(encoded.length).toBe(bytes);
    await withDuck(async (sql) => {
      expect(await sql(`SELECT CAST(scd2_unscaled(${blob(encoded)}, 'c') AS VARCHAR)`)).toEqual([
        value.toString(),
      ]);
      // Through the decimal decode expression, when DECIMAL(38) can hold it.
      const decimal = (scale: number) =>
        sql(
          `SELECT ${decodeExpression("c", "BLOB", `decimal(38,${scale})`)} FROM (SELECT ${blob(encoded)} AS c)`,
        );
      if (value <= MAX_38 && value >= -MAX_38) {
        expect(await decimal(0)).toEqual([decimalText(value, 0)]);
        expect(await decimal(2)).toEqual([decimalText(value, 2)]);
      } else {
        await expect(decimal(0)).rejects.toThrow(/DECIMAL\(38,0\)/);
      }
    });
  });

  it("the empty byte string is 0", async () => {
    await withDuck(async (sql) => {
      expect(await sql(`SELECT CAST(scd2_unscaled(''::BLOB, 'c') AS VARCHAR)`)).toEqual(["0"]);
    });
  });

  it.each([17, 20])("refuses %i bytes naming the column", async (length) => {
    await withDuck(async (sql) => {
      await expect(
        sql(
          `SELECT ${decodeExpression("amount", "BLOB", "decimal(38,2)")} FROM (SELECT ${blob(Buffer.alloc(length, 0x7f))} AS amount)`,
        ),
      ).rejects.toThrow(
        `column amount: a decimal unscaled value of ${length} bytes does not fit DuckDB's HUGEINT (at most 16 bytes, DECIMAL precision 38)`,
      );
    });
  });
});

describe("wide decimals through the job (JSON lines, base64 unscaled values)", () => {
  const meta = (op: string, lsn: number, second: number) => ({
    __deleted: "false",
    __op: op,
    __table: "ledger",
    __lsn: lsn,
    __txId: lsn + 1,
    __source_ts_ms: at(`2024-03-01T00:00:0${second}Z`),
  });
  const table = { table: "commerce.ledger", columnTypes: { amount: "decimal(38,2)" as const } };

  it("decodes negative and positive 16-byte values exactly", async () => {
    const source = await SourceBucket.create();
    const values = [-MAX_38, MAX_38, -1n, -(1n << 119n)];
    await source.json(
      "commerce.ledger",
      0,
      0,
      values.map((v, i) =>
        JSON.stringify({ id: i + 1, amount: toByteArray(v).toString("base64"), ...meta("c", 100 + i, 1) }),
      ),
    );
    const output = await tempDir("scd2-out-");
    await run(source.root, output, { tables: [table] });
    const rows = await query(
      `SELECT id, amount::VARCHAR AS amount, typeof(amount) AS t FROM read_parquet('${output}/ledger/**/*.parquet') ORDER BY id`,
    );
    expect(rows).toEqual(
      values.map((v, i) => ({ id: String(i + 1), amount: decimalText(v, 2), t: "DECIMAL(38,2)" })),
    );
  });

  it("fails naming the column and the file for a 17-byte value", async () => {
    const source = await SourceBucket.create();
    const key = await source.json("commerce.ledger", 0, 0, [
      JSON.stringify({ id: 1, amount: Buffer.alloc(17, 1).toString("base64"), ...meta("c", 100, 1) }),
    ]);
    const output = await tempDir("scd2-out-");
    const error = await run(source.root, output, { tables: [table] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Scd2Error);
    expect((error as Error).message).toContain(
      `column amount in ${key}: a decimal unscaled value of 17 bytes does not fit DuckDB's HUGEINT (at most 16 bytes, DECIMAL precision 38)`,
    );
  });
});
