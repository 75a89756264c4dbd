// The CLI over a small fixture on local directories: exit codes, JSON log lines, SCD2 row counts,
// incremental reruns, job errors, the run lock, the terminal view and stopping on SIGTERM.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  FIXTURE_COUNTS,
  REPO_ROOT,
  changeRow,
  jsonLines,
  readScd2,
  runCli,
  writeChangeFile,
  useFixtureCases,
} from "./cli-helpers";

const { scratch, fixture: freshDirs } = useFixtureCases("cli-run-");
const PRODUCTS_TYPE = ["--column-type", "commerce.products.created_at=micro-timestamp"];

/** The `table done` summaries of a run's JSON log, by table. */
function tableSummaries(stdout: string): Record<string, Record<string, unknown>> {
  const done = jsonLines(stdout).filter((l) => l.msg === "table done");
  return Object.fromEntries(done.map((l) => [String(l.table), l]));
}

describe("cdc-scd2 run on directories", () => {
  it("builds the SCD2 tables, logs one JSON line per event, and exits 0", async () => {
    const { source, output } = freshDirs();
    const result = await runCli(["run", "--source", source, "--output", output, ...PRODUCTS_TYPE]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const lines = jsonLines(result.stdout);
    for (const line of lines) {
      expect(line).toMatchObject({
        level: expect.any(Number),
        time: expect.any(String),
        msg: expect.any(String),
      });
    }
    expect(lines[0]).toMatchObject({ msg: "run started", source, output, fullRefresh: false });
    expect(lines.filter((l) => l.msg === "files read").map((l) => [l.table, l.done, l.total])).toEqual([
      ["commerce.products", 1, 2],
      ["commerce.products", 2, 2],
      ["commerce.users", 1, 1],
    ]);
    expect(lines.filter((l) => l.msg === "step").map((l) => [l.table, l.step])).toEqual(
      ["commerce.products", "commerce.users"].flatMap((table) =>
        ["ordering changes", "writing closed versions", "writing current versions", "writing state"].map(
          (step) => [table, step],
        ),
      ),
    );
    const summaries = tableSummaries(result.stdout);
    for (const [table, counts] of Object.entries(FIXTURE_COUNTS))
      expect(summaries[table]).toMatchObject(counts);
    expect(lines.at(-1)).toMatchObject({
      msg: "run done",
      tables: [{ table: "commerce.products" }, { table: "commerce.users" }],
    });

    const products = await readScd2(path.join(output, "products"));
    expect(products).toMatchObject({ versions: 4, current: 2, deleted: 1 });
    expect(products.types.created_at).toBe("TIMESTAMP"); // --column-type reached the job
    expect(await readScd2(path.join(output, "users"))).toMatchObject({ versions: 2, current: 1, deleted: 0 });
  });

  it("processes only new files on a rerun, and everything with --full-refresh", async () => {
    const { source, output } = freshDirs();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);

    const rerun = await runCli(["run", "--source", source, "--output", output]);
    expect(rerun.code).toBe(0);
    expect(tableSummaries(rerun.stdout)["commerce.products"]).toMatchObject({
      files: 0,
      events: 0,
      versions: 4,
    });

    writeChangeFile(source, "cdc.commerce.users", 0, 2, [
      changeRow("d", "users", 500, Date.UTC(2026, 0, 2), { id: 1, email: "" }),
    ]);
    const incremental = await runCli([
      "run",
      "--source",
      source,
      "--output",
      output,
      "--tables",
      "commerce.users",
    ]);
    expect(incremental.code).toBe(0);
    expect(tableSummaries(incremental.stdout)).toEqual({
      "commerce.users": expect.objectContaining({ files: 1, events: 1, versions: 2, current: 0, deleted: 1 }),
    });

    const full = await runCli(["run", "--source", source, "--output", output, "--full-refresh"]);
    expect(full.code).toBe(0);
    const summaries = tableSummaries(full.stdout);
    expect(summaries["commerce.products"]).toMatchObject(FIXTURE_COUNTS["commerce.products"]);
    expect(summaries["commerce.users"]).toMatchObject({
      files: 2,
      events: 3,
      versions: 2,
      current: 0,
      deleted: 1,
    });
  });

  it("takes primary keys and column types from --table-config", async () => {
    const { source, output } = freshDirs();
    const config = path.join(scratch(), "table-config.json");
    writeFileSync(
      config,
      JSON.stringify({
        "commerce.products": { primaryKey: ["id"], columnTypes: { created_at: "micro-timestamp" } },
      }),
    );
    const result = await runCli(["run", "--source", source, "--output", output, "--table-config", config]);
    expect(result.code).toBe(0);
    // The config names one table, so only that table is built.
    expect(Object.keys(tableSummaries(result.stdout))).toEqual(["commerce.products"]);
    expect((await readScd2(path.join(output, "products"))).types.created_at).toBe("TIMESTAMP");
  });

  it("exits 1 naming a corrupt file, and leaves the previous output as it was", async () => {
    const { source, output } = freshDirs();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
    const before = readdirSync(output, { recursive: true }).sort();
    const corrupt = "cdc.commerce.products/partition=0/cdc.commerce.products+0+0000000005.snappy.parquet";
    writeFileSync(path.join(source, corrupt), "this is not parquet");

    const result = await runCli(["run", "--source", source, "--output", output]);
    expect(result.code).toBe(1);
    const failure = jsonLines(result.stdout).find((l) => l.msg !== undefined && l.level === 50);
    expect(String(failure?.msg)).toContain(corrupt);
    expect(readdirSync(output, { recursive: true }).sort()).toEqual(before);
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });
  });

  it("exits 1 when another run holds the output's lock", async () => {
    const { source, output } = freshDirs();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
    const holder = {
      runId: "other-run",
      host: `not-${hostname()}`,
      pid: 4242,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(path.join(output, "_state", "lock"), JSON.stringify(holder));
    const result = await runCli(["run", "--source", source, "--output", output]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/_state\/lock is held by run other-run/);
  });

  // `script` gives the CLI a pseudo-terminal, as a user's shell would.
  it("shows progress bars and a summary table on a terminal", async () => {
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" });
    } catch {
      throw new Error("this test needs util-linux's `script` on PATH (Debian package bsdutils)");
    }
    const { source, output } = freshDirs();
    const command = `node --import tsx analytics/src/cli.ts run --source '${source}' --output '${output}'`;
    const screen = execFileSync("script", ["-qec", command, "/dev/null"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(screen).toMatch(/commerce\.products \[.*\] 2\/2 files/);
    expect(screen).toMatch(/table\s+files\s+events\s+versions\s+current\s+deleted\s+duration/);
    expect(screen).toMatch(/commerce\.products\s+2\s+5\s+4\s+2\s+1\s+\d+\.\ds/);
    expect(screen).toMatch(/commerce\.users\s+1\s+2\s+2\s+1\s+0\s+\d+\.\ds/);
    expect(screen).not.toContain('"level"');
  });

  it("stops on SIGTERM with exit 143, keeps the previous output, and the next run completes", async () => {
    const { source, output } = freshDirs();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
    // Two new files on another partition: the run to be stopped has work to do.
    const newProduct = (id: number) => ({ id, name: `item-${id}`, price: id, created_at: 0 });
    for (const offset of [0, 2]) {
      writeChangeFile(source, "cdc.commerce.products", 1, offset, [
        changeRow("c", "products", 1000 + offset, Date.UTC(2026, 0, 3), newProduct(10 + offset)),
        changeRow("c", "products", 1001 + offset, Date.UTC(2026, 0, 3), newProduct(11 + offset)),
      ]);
    }

    let sent = false;
    const stopped = await runCli(["run", "--source", source, "--output", output], {
      onStdout: (stdout, kill) => {
        if (!sent && stdout.includes('"files read"')) {
          sent = true;
          kill("SIGTERM");
        }
      },
    });
    expect(stopped.code).toBe(143);
    expect(existsSync(path.join(output, "_state", "lock"))).toBe(false); // released, not left to go stale
    expect(jsonLines(stopped.stdout).at(-1)).toMatchObject({
      level: 50,
      msg: expect.stringMatching(/stopped by SIGTERM/),
    });
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });

    const next = await runCli(["run", "--source", source, "--output", output]);
    expect(next.code).toBe(0);
    expect(tableSummaries(next.stdout)["commerce.products"]).toMatchObject({
      files: 2,
      events: 4,
      versions: 8,
    });
  });
});
