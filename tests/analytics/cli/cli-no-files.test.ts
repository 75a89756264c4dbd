// A run that reads nothing must say so: a table whose topic has no change files at all is a warning,
// an error when no table has any (a wrong --source, --topic-prefix or --tables) or with --require-files;
// nothing is created for such a table, and a full refresh leaves its committed history alone.
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { failureLine, fileContents, jsonLines, readScd2, runCli, useFixtureCases } from "./cli-helpers";

const { fixture: dirs } = useFixtureCases("cli-no-files-");

const CHECK = "check --source, --topic-prefix and --tables (nothing was written)";

describe("cdc-scd2 run that finds no change files", () => {
  it.each([
    {
      name: "a wrong --topic-prefix",
      args: (source: string) => ["--source", source, "--topic-prefix", "dbz"],
      where: (source: string) => `${source}/dbz.commerce.products/, ${source}/dbz.commerce.users/`,
    },
    {
      name: "a --source one folder too high",
      args: (source: string) => ["--source", path.dirname(source)],
      where: (source: string) =>
        `${path.dirname(source)}/cdc.commerce.products/, ${path.dirname(source)}/cdc.commerce.users/`,
    },
    {
      name: "a wrong --tables",
      args: (source: string) => ["--source", source, "--tables", "commerce.product"],
      where: (source: string) => `${source}/cdc.commerce.product/`,
    },
  ])("$name: exit 1 naming where it looked, and nothing created", async ({ args, where }) => {
    const { source, output } = dirs();
    const result = await runCli(["run", ...args(source), "--output", output]);
    expect(result.code).toBe(1);
    expect(failureLine(result.stdout)).toBe(
      `no change files for any table: nothing under ${where(source)}; ${CHECK}`,
    );
    expect(existsSync(output) ? readdirSync(output, { recursive: true }) : []).toEqual([]);
  });

  it("on an existing output: exit 1, the output unchanged, even with --full-refresh", async () => {
    const { source, output } = dirs();
    expect((await runCli(["run", "--source", source, "--output", output])).code).toBe(0);
    const before = fileContents(output);
    const result = await runCli([
      "run",
      "--source",
      source,
      "--output",
      output,
      "--topic-prefix",
      "dbz",
      "--full-refresh",
    ]);
    expect(result.code).toBe(1);
    expect(failureLine(result.stdout)).toMatch(/^no change files for any table: nothing under /);
    expect(fileContents(output)).toEqual(before);
    expect(await readScd2(path.join(output, "products"))).toMatchObject({
      versions: 4,
      current: 2,
      deleted: 1,
    });
  });

  it("one table without change files is a warning in its summary, and nothing is created for it", async () => {
    const { source, output } = dirs();
    const result = await runCli([
      "run",
      "--source",
      source,
      "--output",
      output,
      "--tables",
      "commerce.products,commerce.orders",
    ]);
    expect(result.code).toBe(0);
    const warning = `no change files under ${source}/cdc.commerce.orders/ (check --source, --topic-prefix and --tables)`;
    const lines = jsonLines(result.stdout);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([`commerce.orders: ${warning}`]);
    expect(lines.find((l) => l.msg === "table done" && l.table === "commerce.orders")).toMatchObject({
      files: 0,
      versions: 0,
      warning,
    });
    expect(readdirSync(output).sort()).toEqual(["_state", "products", "views.sql"]);
    expect(readdirSync(path.join(output, "_state")).sort()).toEqual(["commerce.products", "manifest.json"]);
  });

  it("--require-files makes one table without change files an error, before anything is written", async () => {
    const { source, output } = dirs();
    const result = await runCli([
      "run",
      "--source",
      source,
      "--output",
      output,
      "--tables",
      "commerce.products,commerce.orders",
      "--require-files",
    ]);
    expect(result.code).toBe(1);
    expect(failureLine(result.stdout)).toBe(
      `no change files for commerce.orders: nothing under ${source}/cdc.commerce.orders/; ${CHECK}`,
    );
    expect(existsSync(output) ? readdirSync(output, { recursive: true }) : []).toEqual([]);
  });
});
