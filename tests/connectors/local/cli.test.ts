/** `cdc-connect-local` as a process: SIGTERM commits what it holds and exits 0; a bad config exits 1 before touching anything. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  captureSetup,
  exitCode,
  readParquet,
  spawnCli,
  startCli,
  topicFiles,
  writeConfigFiles,
  useHarness,
} from "./harness";

describe("cdc-connect-local", () => {
  const h = useHarness();

  it("on SIGTERM commits the open file, stores the offset and exits 0", async () => {
    await h.db.query("CREATE TABLE public.held (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.held SELECT generate_series(1, 5)");
    // flush.size 1000 and no scheduled rotation: the five snapshot rows stay in the open file.
    const setup = await captureSetup(h, ["public.held"]);
    const { sourceFile, sinkFile } = writeConfigFiles(h, setup);
    const child = await startCli(sourceFile, sinkFile, setup.bucketRoot);
    expect(topicFiles(setup.bucketRoot, "cdc.public.held")).toEqual([]);
    const exited = exitCode(child);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);

    const files = topicFiles(setup.bucketRoot, "cdc.public.held");
    const { rows } = await readParquet(files, "id, __op, __lsn");
    const snapshotLsn = rows[0]!.__lsn as string;
    expect(rows).toEqual([1, 2, 3, 4, 5].map((id) => ({ id, __op: "r", __lsn: snapshotLsn })));
    const offsets = join(setup.bucketRoot, ".connect-offsets");
    expect(JSON.parse(readFileSync(join(offsets, `source-${setup.source.name}.json`), "utf8"))).toEqual({
      lsn: snapshotLsn,
      lsn_commit: null,
      txId: expect.any(Number) as number,
      snapshot_completed: true,
    });
    expect(JSON.parse(readFileSync(join(offsets, `sink-${setup.sink.name}.json`), "utf8"))).toEqual({
      "cdc.public.held": 5,
    });
  });

  it("exits 1 naming a config key it does not support, and writes nothing", async () => {
    await h.db.query("CREATE TABLE public.refused (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.refused"], {
      source: { "snapshot.locking.mode": "none" },
    });
    const { sourceFile, sinkFile } = writeConfigFiles(h, setup);
    const child = spawnCli(sourceFile, sinkFile, setup.bucketRoot);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitCode(child)).toBe(1);
    expect(stderr).toBe(
      `cdc-connect-local: ${setup.source.name}: config key(s) not supported by the local runtime: "snapshot.locking.mode"\n`,
    );
    expect(readdirSync(setup.bucketRoot)).toEqual([]);
    expect(existsSync(join(setup.bucketRoot, ".connect-offsets"))).toBe(false);
  });
});
