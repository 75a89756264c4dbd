/**
 * `npm start` as a user runs it (spawned, short workload, its own directory): it must exit 0,
 * print the summary for both tables and a product history on stdout, and log JSON lines on stderr
 * (stderr is not a terminal here).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runNpmStart, summaryRow } from "./npm-start-process";

describe("npm start", () => {
  const root = mkdtempSync(join(tmpdir(), "cdc-start-"));
  chmodSync(root, 0o755);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("runs the whole pipeline, prints the summary and exits 0", async () => {
    const localDir = join(root, "local");
    const { code, stdout, stderr } = await runNpmStart("", [
      "--duration",
      "3",
      "--rate",
      "30",
      "--fresh",
      "--local-dir",
      localDir,
    ]);
    expect(code, stderr.slice(-3000)).toBe(0);

    expect(stdout).toContain("Local pipeline summary");
    expect(stdout).toMatch(
      /^table +changes made +events captured +files +versions +current rows +deleted keys$/m,
    );
    for (const table of ["commerce.products", "commerce.users"]) {
      const [changes, captured, files, versions, current, deleted] = summaryRow(stdout, table);
      // A fresh run with no restart: exactly one change record per committed row change.
      expect(captured).toBe(changes);
      expect(files).toBeGreaterThan(0);
      expect(versions).toBeGreaterThanOrEqual(current!);
      expect(current! + deleted!).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(
      /History of commerce\.products id=\d+:\n\neffective_from +effective_to +is_current +is_deleted +op/,
    );

    const logs = stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event?: string; msg?: string });
    expect(logs.filter((l) => l.event === "step").map((l) => l.msg)).toEqual([
      "starting embedded PostgreSQL",
      "applying the source setup (schema, tables, role, grants, publication, slot)",
      "seeding rows that exist before capture starts (the initial snapshot)",
      "starting the local connector runtime",
      "running the workload for 3 s at 30 transactions/s",
      "waiting for the change files to land",
      "running the SCD2 job",
    ]);
    expect(existsSync(join(localDir, "connectors", "source.json"))).toBe(true);
  });

  it("refuses to --fresh a directory holding files it did not create, and leaves them", async () => {
    const localDir = join(root, "mine");
    mkdirSync(localDir);
    writeFileSync(join(localDir, "thesis.tex"), "precious");
    const { code, stderr } = await runNpmStart("", ["--fresh", "--local-dir", localDir]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `refusing to wipe ${localDir}: it holds thesis.tex, which npm start did not create`,
    );
    expect(readFileSync(join(localDir, "thesis.tex"), "utf8")).toBe("precious");
  });

  it("rejects a bad option with exit code 2, naming it", async () => {
    const { code, stderr } = await runNpmStart("", ["--rate=0", "--local-dir", join(root, "unused")]);
    expect(code).toBe(2);
    expect(stderr).toContain("--rate: must be positive");
    expect(existsSync(join(root, "unused"))).toBe(false);
  });
});
