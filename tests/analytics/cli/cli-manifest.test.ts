// A missing or edited manifest must never make the job delete committed history: the run stops with
// exit 1 naming the manifest and the file, leaving the output as it was; --full-refresh is the way out
// only while the source still holds every change file the unlisted table files came from.
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../analytics/src/state/manifest";
import { VIEWS_KEY } from "../../../analytics/src/views";
import { FIXTURE_COUNTS, failureLine, fileContents, readScd2, runCli, useFixtureCases } from "./cli-helpers";

const fixtures = useFixtureCases("cli-manifest-");

const RUN = String.raw`\d{8}T\d{9}Z-[0-9a-f]{8}`;
const PRODUCTS = FIXTURE_COUNTS["commerce.products"];
const TABLE_COUNTS = { versions: PRODUCTS.versions, current: PRODUCTS.current, deleted: PRODUCTS.deleted };

/** A committed output of the CLI fixture; returns its folders and manifest path. */
async function committed() {
  const { source, output } = fixtures.fixture();
  expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
  return { source, output, manifestFile: path.join(output, "_state", "manifest.json") };
}

const readManifest = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Manifest;

/** Runs the CLI again; expects exit 1 with `first` as the message's first line and the output unchanged. */
async function expectStopped(args: string[], output: string, first: RegExp) {
  const before = fileContents(output);
  const result = await runCli(["run", ...args]);
  expect(result.code).toBe(1);
  expect(failureLine(result.stdout)).toMatch(first);
  expect(fileContents(output)).toEqual(before);
  expect(await readScd2(path.join(output, "products"))).toMatchObject(TABLE_COUNTS);
}

describe("cdc-scd2 run on an output whose manifest does not match its files", () => {
  it("a deleted manifest stops the run, naming it and a table file, and deletes nothing", async () => {
    const { source, output, manifestFile } = await committed();
    unlinkSync(manifestFile);
    await expectStopped(
      ["--source", source, "--output", output],
      output,
      new RegExp(
        `^${output}/_state/manifest\\.json is missing, but the output holds products/current/${RUN}\\.parquet \\(and \\d+ more\\), and no interrupted run can have written it: the job deletes no file it cannot prove it wrote; restore the manifest .*, or rebuild the table with --full-refresh`,
      ),
    );
  });

  it("a manifest whose history list was emptied stops the run naming the unlisted history file", async () => {
    const { source, output, manifestFile } = await committed();
    const manifest = readManifest(manifestFile);
    const history = manifest.tables["commerce.products"]!.history.map((f) => f.key);
    expect(history).toHaveLength(1);
    manifest.tables["commerce.products"]!.history = [];
    writeFileSync(manifestFile, JSON.stringify(manifest));
    await expectStopped(
      ["--source", source, "--output", output],
      output,
      new RegExp(`^${output}/_state/manifest\\.json does not list ${history[0]}, and no interrupted run`),
    );
  });

  it("a file the manifest lists that is missing stops the run naming it", async () => {
    const { source, output, manifestFile } = await committed();
    const current = readManifest(manifestFile).tables["commerce.users"]!.current.key;
    unlinkSync(path.join(output, current));
    const before = fileContents(output);
    const result = await runCli(["run", "--source", source, "--output", output]);
    expect(result.code).toBe(1);
    expect(failureLine(result.stdout)).toBe(
      `${output}/_state/manifest.json lists ${current} of commerce.users, which is missing; restore the manifest (e.g. an earlier version of the object), or rebuild the table with --full-refresh, which first checks that the source still holds every change file those table files came from`,
    );
    expect(fileContents(output)).toEqual(before);
    expect(await readScd2(path.join(output, "products"))).toMatchObject(TABLE_COUNTS);
  });

  it("--full-refresh rebuilds over a deleted manifest when the source is complete, and replaces the unlisted files", async () => {
    const { source, output, manifestFile } = await committed();
    unlinkSync(manifestFile);
    const result = await runCli(["run", "--source", source, "--output", output, "--full-refresh"]);
    expect(result.code).toBe(0);
    expect(await readScd2(path.join(output, "products"))).toMatchObject(TABLE_COUNTS);
    // Exactly the files the new manifest lists are left: no version twice.
    const manifest = readManifest(manifestFile);
    const listed = Object.values(manifest.tables).flatMap((t) => [
      ...t.history.map((f) => f.key),
      t.current.key,
      ...t.keys,
      ...t.applied,
    ]);
    const stored = readdirSync(output, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(output, path.join(e.parentPath, e.name)))
      .filter((key) => key !== "_state/manifest.json" && key !== VIEWS_KEY);
    expect(stored.sort()).toEqual(listed.sort());
    // And the next incremental run accepts the output.
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
  });

  it("--full-refresh refuses when a change file the history came from has expired", async () => {
    const { source, output, manifestFile } = await committed();
    unlinkSync(manifestFile);
    const expired = "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000000.json";
    unlinkSync(path.join(source, expired));
    await expectStopped(
      ["--source", source, "--output", output, "--full-refresh"],
      output,
      new RegExp(
        `^${output}/_state/manifest\\.json is missing, but the output holds products/current/${RUN}\\.parquet \\(and \\d+ more\\), and --full-refresh would lose history: versions in it came from ${expired.replaceAll(".", "\\.").replaceAll("+", "\\+")}, which is no longer in ${source}; restore the manifest`,
      ),
    );
  });
});
