// A table run hands each file over for upload as soon as it is written, and goes on writing the next:
// the history's upload (on S3, the run's largest transfer) overlaps the writing of the state files.
import { mkdirSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { discoverSourceFiles } from "../../analytics/src/discovery";
import { runTable } from "../../analytics/src/scd2/table-run";
import { DirectoryStorage } from "../../analytics/src/storage";
import { SourceBucket, product, tempDir, u } from "./helpers/fixtures";

/** A scratch file name or key with the run id replaced by `<run>`. */
const named = (name: string) => name.replaceAll("run-1", "<run>");

describe("a table run's uploads", () => {
  it("are handed over as each file is written: the history before the state files exist", async () => {
    const source = await SourceBucket.create();
    await source.parquet("commerce.products", 0, 0, [
      u(100, 1, product(1, "a")),
      u(110, 2, product(1, "b")),
      u(120, 3, product(2, "c")),
    ]);
    const topic = "cdc.commerce.products";
    const files = discoverSourceFiles(await source.storage().list(`${topic}/`), topic);
    const work = await tempDir("scd2-work-");
    const scratchDir = path.join(work, "scratch");
    mkdirSync(scratchDir);
    const handed: { keys: string[]; written: string[] }[] = [];
    const result = await runTable(
      {
        source: source.storage(),
        output: new DirectoryStorage(await tempDir("scd2-out-")),
        runId: "run-1",
        fullRefresh: true,
        duck: { workDir: work, threads: 2, memoryLimit: "1GB" },
        stagingDir: path.join(work, "staging"),
        scratchDir,
        // What the scratch dir holds when the run hands files over: what it has written so far.
        upload: (written) => {
          if (written.length > 0)
            handed.push({ keys: written.map((f) => f.key), written: readdirSync(scratchDir).sort() });
        },
      },
      { table: "commerce.products", topic, dir: "products", primaryKey: ["id"], columnTypes: {} },
      undefined,
      files,
    );
    expect(handed.map((h) => h.keys.map(named))).toEqual([
      ["products/history/<run>.parquet", "products/current/<run>.parquet"],
      ["_state/commerce.products/keys/<run>.parquet"],
      ["_state/commerce.products/applied/<run>.parquet"],
    ]);
    expect(handed[0]!.written.map(named)).toEqual([
      "products__current__<run>.parquet",
      "products__history__<run>.parquet",
    ]);
    expect(result.state?.current.rows).toBe(2);
  });
});
