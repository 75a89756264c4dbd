// Bad input: every case names the flag and the value, exits 2, and writes nothing.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runCli } from "./cli-helpers";

let scratch: string;
let source: string;
let output: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "cli-args-"));
  source = path.join(scratch, "source");
  output = path.join(scratch, "output");
  mkdirSync(source);
  writeFileSync(path.join(scratch, "broken.json"), "{ not json");
  writeFileSync(
    path.join(scratch, "wrong-shape.json"),
    JSON.stringify({ "commerce.products": { primaryKey: "id" } }),
  );
  writeFileSync(
    path.join(scratch, "unknown-key.json"),
    JSON.stringify({ "commerce.products": { primarykey: ["id"] } }),
  );
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("cdc-scd2 argument errors (exit 2)", () => {
  const base = (): string[] => ["run", "--source", source, "--output", output];
  const cases: [string, () => string[], RegExp][] = [
    [
      "no command options",
      () => ["run"],
      /required option '--source <dir\|s3:\/\/bucket\/prefix>' not specified/,
    ],
    ["an unknown option", () => [...base(), "--bogus"], /unknown option '--bogus'/],
    ["an unknown command", () => ["walk"], /unknown command 'walk'/],
    [
      "a missing source dir",
      () => ["run", "--source", "/no/such/dir", "--output", output],
      /invalid --source "\/no\/such\/dir": \/no\/such\/dir is not a directory/,
    ],
    [
      "an unsupported scheme",
      () => ["run", "--source", source, "--output", "gs://b/x"],
      /invalid --output "gs:\/\/b\/x": unsupported storage location .*scheme "gs"/,
    ],
    [
      "a bad bucket name",
      () => ["run", "--source", "s3://Bad_Bucket/x", "--output", output],
      /invalid --source "s3:\/\/Bad_Bucket\/x": invalid S3 bucket name "Bad_Bucket"/,
    ],
    [
      "a table without schema",
      () => [...base(), "--tables", "products"],
      /invalid --tables "products": expected <schema>\.<table>/,
    ],
    [
      "a table listed twice",
      () => [...base(), "--tables", "a.b,a.b"],
      /invalid --tables "a\.b,a\.b": a table is listed twice/,
    ],
    [
      "a bad topic prefix",
      () => [...base(), "--topic-prefix", "my prefix"],
      /invalid --topic-prefix "my prefix"/,
    ],
    ["zero threads", () => [...base(), "--threads", "0"], /invalid --threads "0": expected a whole number/],
    ["non-numeric threads", () => [...base(), "--threads", "two"], /invalid --threads "two"/],
    [
      "a bad memory limit",
      () => [...base(), "--memory-limit", "lots"],
      /invalid --memory-limit "lots": expected a size such as 512MB/,
    ],
    ["a bad log level", () => [...base(), "--log-level", "loud"], /invalid --log-level "loud"/],
    [
      "a primary key without =",
      () => [...base(), "--primary-key", "commerce.products"],
      /invalid --primary-key "commerce\.products": expected <schema>\.<table>=<col>/,
    ],
    [
      "a primary key of an unlisted table",
      () => [...base(), "--primary-key", "commerce.orders=id"],
      /invalid --primary-key "commerce\.orders=id": table commerce\.orders is not in --tables/,
    ],
    [
      "a primary key with a bad column",
      () => [...base(), "--primary-key", "commerce.users=id,"],
      /invalid --primary-key "commerce\.users=id,": .*expected column names/,
    ],
    [
      "an unknown encoding",
      () => [...base(), "--column-type", "commerce.users.born=birthday"],
      /invalid --column-type "commerce\.users\.born=birthday": expected one of micro-timestamp/,
    ],
    [
      "a decimal over 38 digits",
      () => [...base(), "--column-type", "commerce.products.price=decimal(40,2)"],
      /invalid --column-type "commerce\.products\.price=decimal\(40,2\)"/,
    ],
    [
      "a column type without column",
      () => [...base(), "--column-type", "commerce.users=date"],
      /invalid --column-type "commerce\.users=date"/,
    ],
    [
      "a missing table config",
      () => [...base(), "--table-config", path.join(scratch, "none.json")],
      /invalid --table-config ".*none\.json": ENOENT/,
    ],
    [
      "a table config that is not JSON",
      () => [...base(), "--table-config", path.join(scratch, "broken.json")],
      /invalid --table-config ".*broken\.json": .*JSON/,
    ],
    [
      "a table config of the wrong shape",
      () => [...base(), "--table-config", path.join(scratch, "wrong-shape.json")],
      /invalid --table-config .*wrong-shape\.json.*commerce\.products\.primaryKey: .*expected array/,
    ],
    [
      "a table config with an unknown key",
      () => [...base(), "--table-config", path.join(scratch, "unknown-key.json")],
      /commerce\.products: Unrecognized key: "primarykey"/,
    ],
    [
      "a reconcile window that is not table:requestedAt:doneAt",
      () => [...base(), "--reconcile", "commerce.products:0/16C0420"],
      /invalid --reconcile "commerce\.products:0\/16C0420": expected <schema>\.<table>:<requestedAt LSN>:<doneAt LSN>/,
    ],
    [
      "a reconcile window with a bad LSN",
      () => [...base(), "--reconcile", "commerce.products:0/16C0420:16C13F8"],
      /invalid --reconcile ".*": doneAt "16C13F8" is not an LSN like 0\/16C13F8/,
    ],
    [
      "a reconcile window that ends before it starts",
      () => [...base(), "--reconcile", "commerce.products:0/16C13F8:0/16C0420"],
      /invalid --reconcile ".*": doneAt 0\/16C0420 is before requestedAt 0\/16C13F8/,
    ],
    [
      "a reconcile window for a table not built",
      () => [...base(), "--tables", "commerce.users", "--reconcile", "commerce.products:0/1:0/2"],
      /invalid --reconcile "commerce\.products:0\/1:0\/2": commerce\.products is not in --tables/,
    ],
  ];

  it.each(cases)("rejects %s", async (_name, args, message) => {
    const result = await runCli(args());
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(existsSync(output)).toBe(false);
  });
});

describe("cdc-scd2 help", () => {
  it("is linked as the workspace bin and runs from the build (npx cdc-scd2)", () => {
    // `npm test` builds before it tests; run on its own, vitest may have no dist/ to run.
    if (!existsSync(path.join(REPO_ROOT, "analytics", "dist", "analytics", "src", "cli.js"))) {
      throw new Error(
        "analytics/dist/analytics/src/cli.js is missing: run `npm run build` first (npm test does)",
      );
    }
    const bin = path.join(REPO_ROOT, "node_modules", ".bin", "cdc-scd2");
    const help = execFileSync(bin, ["--help"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(help).toMatch(/^Usage: cdc-scd2 \[options\] \[command\]/);
    expect(help).toContain("run [options]");
  });

  it("prints the run options and exits 0", async () => {
    const result = await runCli(["run", "--help"]);
    expect(result.code).toBe(0);
    for (const flag of [
      "--source",
      "--output",
      "--tables",
      "--topic-prefix",
      "--full-refresh",
      "--primary-key",
      "--column-type",
      "--table-config",
      "--memory-limit",
      "--threads",
      "--work-dir",
      "--log-level",
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});
