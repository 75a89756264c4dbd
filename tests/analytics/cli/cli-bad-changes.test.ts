// Change records the job does not understand (an unknown __op, an __lsn that is not a number) fail the
// run with exit 1 naming the file and Kafka offset; the previous output stays as it was and readable.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PRODUCT_COLUMNS, META_COLUMNS, product, sinkRow, u, writeParquetFile } from "../helpers/fixtures";
import {
  changeRow,
  failureLine,
  fileContents,
  readScd2,
  runCli,
  writeChangeFile,
  useFixtureCases,
} from "./cli-helpers";

const fixtures = useFixtureCases("cli-bad-changes-");

const TOPIC = "cdc.commerce.products";
const NEW_FILE = `${TOPIC}/partition=0/${TOPIC}+0+0000000005`;
const later = Date.UTC(2026, 0, 5);
const desk = { id: 1, name: "desk", price: 80, created_at: 0 };

const cases: { name: string; write: (source: string) => Promise<unknown>; message: string }[] = [
  {
    name: "an unknown __op x",
    write: async (source) =>
      writeChangeFile(source, TOPIC, 0, 5, [
        changeRow("u", "products", 600, later, desk),
        { ...changeRow("u", "products", 700, later, desk), __op: "x" },
      ]),
    message: `commerce.products: ${NEW_FILE}.json has a row (offset 6) with unknown __op "x" (expected one of c, u, d, r)`,
  },
  {
    name: "an upper-case __op U in a Parquet file",
    write: (source) =>
      writeParquetFile(
        source,
        `${NEW_FILE}.snappy.parquet`,
        TOPIC,
        [...PRODUCT_COLUMNS, ...META_COLUMNS],
        [{ ...sinkRow(u(600, 5, product(1, "desk")), "commerce.products", PRODUCT_COLUMNS), __op: "U" }],
      ),
    message: `commerce.products: ${NEW_FILE}.snappy.parquet has a row (offset 5) with unknown __op "U" (expected one of c, u, d, r)`,
  },
  {
    name: "an __lsn that is not a number",
    write: async (source) =>
      writeChangeFile(source, TOPIC, 0, 5, [
        changeRow("u", "products", 600, later, desk),
        changeRow("u", "products", 610, later, desk),
        { ...changeRow("u", "products", 700, later, desk), __lsn: "0/16B3748" },
      ]),
    message: `commerce.products: ${NEW_FILE}.json has a row (offset 7) whose __lsn "0/16B3748" is not a whole number`,
  },
  {
    name: "an __lsn with a fraction",
    write: async (source) =>
      writeChangeFile(source, TOPIC, 0, 5, [
        { ...changeRow("u", "products", 600, later, desk), __lsn: 600.5 },
      ]),
    message: `commerce.products: ${NEW_FILE}.json has a row (offset 5) whose __lsn "600.5" is not a whole number`,
  },
];

describe("cdc-scd2 run over change records it does not understand", () => {
  it.each(cases)("$name: exit 1 naming the file and offset, output unchanged", async ({ write, message }) => {
    const { source, output } = fixtures.fixture();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
    const before = fileContents(output);
    await write(source);

    const result = await runCli(["run", "--source", source, "--output", output]);
    expect(result.code).toBe(1);
    expect(failureLine(result.stdout)).toBe(message);
    expect(fileContents(output)).toEqual(before);
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });
  });
});
