// A full build writes its current versions from the change files that hold a key's last change only
// (join-back.ts): the other files are not read again for them. Shown from the outside: such a file's
// data pages are overwritten while the current versions are written (its footer stays, which DuckDB
// reads to skip it), and the build still gives the right table.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SourceBucket, product, query, readTable, run, tempDir, u } from "./helpers/fixtures";
import type { Change } from "./helpers/fixtures";
import type { ProgressEvent } from "../../analytics/src/types";

const change = (op: Change["op"], lsn: number, second: number, id: number, name: string): Change => ({
  ...u(lsn, second, product(id, name)),
  op,
});

describe("a full build's current versions", () => {
  it("are read from the change files holding a key's last change", async () => {
    const source = await SourceBucket.create();
    // File 0: every key created; file 1: keys 1-3 updated; file 2: keys 1 and 2 again, key 3 deleted.
    // The current versions: keys 1 and 2 from file 2, key 4 from file 0; file 1 holds none.
    const files = [
      await source.parquet("commerce.products", 0, 0, [
        change("c", 100, 1, 1, "a1"),
        change("c", 110, 2, 2, "a2"),
        change("c", 120, 3, 3, "a3"),
        change("c", 130, 4, 4, "a4"),
      ]),
      await source.parquet("commerce.products", 0, 4, [
        change("u", 200, 11, 1, "b1"),
        change("u", 210, 12, 2, "b2"),
        change("u", 220, 13, 3, "b3"),
      ]),
      await source.parquet("commerce.products", 0, 7, [
        change("u", 300, 21, 1, "c1"),
        change("u", 310, 22, 2, "c2"),
        change("d", 320, 23, 3, "b3"),
      ]),
    ];
    const unread = path.join(source.root, files[1]!);
    const aside = `${unread}.aside`;
    // File 1 with its data pages overwritten (the magic bytes and the footer kept: the file ends with the
    // footer, its 4-byte length and "PAR1"): it cannot be read, as checked here on a copy.
    const spoiled = readFileSync(unread);
    const footer = spoiled.readUInt32LE(spoiled.length - 8);
    spoiled.fill(0x7f, 4, spoiled.length - 8 - footer);
    const copy = path.join(await tempDir("scd2-spoiled-"), "spoiled.parquet");
    writeFileSync(copy, spoiled);
    await expect(query(`SELECT * FROM read_parquet('${copy}')`)).rejects.toThrow();
    let replaced = 0;
    // Spoiled for the current versions' step (reading its rows would fail the run), restored for the
    // state (which reads every file).
    const spoilFile1 = (event: ProgressEvent) => {
      if (event.type !== "step") return;
      if (event.step === "writing current versions") {
        renameSync(unread, aside);
        writeFileSync(unread, spoiled);
        replaced += 1;
      }
      if (event.step === "writing state") renameSync(aside, unread);
    };
    const expected = [
      { id: 1, name: "c1" },
      { id: 2, name: "c2" },
      { id: 4, name: "a4" },
    ];
    const output = await tempDir("scd2-current-files-");
    await run(source.root, output, { fullRefresh: true, onProgress: spoilFile1 });
    expect(replaced).toBe(1);
    const table = await readTable(output, "products", "id, effective_from");
    expect(table.filter((r) => r.is_current).map((r) => ({ id: r.id, name: r.name }))).toEqual(expected);
    expect(table.map((r) => `${r.id}:${r.name}`)).toEqual([
      "1:a1",
      "1:b1",
      "1:c1",
      "2:a2",
      "2:b2",
      "2:c2",
      "3:a3",
      "3:b3",
      "4:a4",
    ]);
  });
});
