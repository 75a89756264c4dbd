// Bad and hostile input to `cdc-scd2`, the way a new user meets it: truncated and empty files, broken
// lines, wrong types, missing keys, hostile names, bad options, tampered state, concurrent runs and
// SIGTERM at every stage. For each: the exit code, the first line of the message, how long it took,
// and that the output committed before is intact and readable (read back with DuckDB, compared).
import { spawn } from "node:child_process";
import { readFileSync, truncateSync, unlinkSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { S3Storage } from "../../../analytics/src/storage";
import { startS3Server } from "../storage/s3-server";
import { META_COLUMNS, PRODUCT_COLUMNS, product, sinkRow, u, writeParquetFile } from "../helpers/fixtures";
import {
  REPO_ROOT,
  changeRow,
  failureLine,
  fileContents,
  jsonLines,
  readScd2,
  runCli,
  useFixtureCases,
} from "./cli-helpers";
import type { CliResult } from "./cli-helpers";

const fixtures = useFixtureCases("cli-bad-input-");
const TOPIC = "cdc.commerce.products";
const DIR = `${TOPIC}/partition=0`;
const NEW = `${DIR}/${TOPIC}+0+0000000005`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const later = Date.UTC(2026, 0, 5);
const desk = { id: 1, name: "desk", price: 80, created_at: 0 };
const row = (lsn: number, values: Record<string, unknown> = desk) =>
  JSON.stringify(changeRow("u", "products", lsn, later, values));
/**
 * An input error is found within this long after the run started (its `run started` and error lines'
 * times). Starting Node and tsx comes on top and, on a shared 2-core machine under load, alone can take
 * several seconds: the whole process is only held to PROCESS_MS, which no hang passes.
 */
const INPUT_ERROR_MS = 5_000;
const PROCESS_MS = 30_000;

/** Milliseconds from the run's `run started` line to its error line (pino's ISO times). */
function jobTime(stdout: string): number {
  const lines = jsonLines(stdout);
  const at = (l: Record<string, unknown> | undefined) => Date.parse(String(l?.time));
  return at(lines.find((l) => l.level === 50)) - at(lines.find((l) => l.msg === "run started"));
}
/** Every output file is an SCD2 table file, state file or the manifest; its SCD2 rows. */
const snapshot = async (output: string) => ({
  files: fileContents(output),
  products: await readScd2(path.join(output, "products")),
});

interface Case {
  name: string;
  /** Breaks the input or the state after a first good run. */
  bad(dirs: { source: string; output: string }): void | Promise<void>;
  args?: (dirs: { source: string; output: string }) => string[];
  exit: number;
  /** The first line of the message (stderr for exit 2, the error line's msg otherwise). */
  first: (dirs: { source: string; output: string }) => RegExp;
}

const write = (source: string, name: string, text: string | Buffer) => {
  mkdirSync(path.join(source, DIR), { recursive: true });
  writeFileSync(path.join(source, name), text);
};

const cases: Case[] = [
  {
    name: "a broken line in a JSON file",
    bad: ({ source }) => write(source, `${NEW}.json`, `${row(600)}\n{"id": 9, "name": "x\n`),
    exit: 1,
    first: () =>
      new RegExp(
        `^commerce\\.products: ${esc(NEW)}\\.json line 2 \\(Kafka offset 6\\) is not a JSON object: `,
      ),
  },
  {
    name: "a JSON file cut off in its last line",
    bad: ({ source }) => write(source, `${NEW}.json`, `${row(600)}\n${row(601)}\n${row(602).slice(0, 30)}`),
    exit: 1,
    first: () =>
      new RegExp(
        `^commerce\\.products: ${esc(NEW)}\\.json line 3 \\(Kafka offset 7\\) is not a JSON object: `,
      ),
  },
  {
    name: "an empty JSON file",
    bad: ({ source }) => write(source, `${NEW}.json`, ""),
    exit: 1,
    first: () => new RegExp(`^commerce\\.products: ${esc(NEW)}\\.json is empty \\(0 bytes\\)`),
  },
  {
    name: "an empty Parquet file",
    bad: ({ source }) => write(source, `${NEW}.snappy.parquet`, ""),
    exit: 1,
    first: () => new RegExp(`^commerce\\.products: ${esc(NEW)}\\.snappy\\.parquet is empty \\(0 bytes\\)`),
  },
  {
    name: "a truncated Parquet file",
    bad: async ({ source }) => {
      const key = `${NEW}.snappy.parquet`;
      await writeParquetFile(
        source,
        key,
        TOPIC,
        [...PRODUCT_COLUMNS, ...META_COLUMNS],
        [sinkRow(u(600, 5, product(1, "desk")), "commerce.products", PRODUCT_COLUMNS)],
      );
      const file = path.join(source, key);
      truncateSync(file, Math.floor(readFileSync(file).length / 2));
    },
    exit: 1,
    first: () =>
      new RegExp(`^commerce\\.products: cannot read the Parquet footer of ${esc(NEW)}\\.snappy\\.parquet: `),
  },
  {
    name: "a key of another type than the table's",
    bad: ({ source }) =>
      write(source, `${NEW}.json`, `${row(600)}\n${row(601, { ...desk, id: "desk-1" })}\n`),
    exit: 1,
    first: () =>
      new RegExp(
        `^commerce\\.products: ${esc(NEW)}\\.json has a row \\(offset 6\\) whose key id is not a BIGINT, the key's type in the table's history$`,
      ),
  },
  {
    name: "an __lsn that is text",
    bad: ({ source }) =>
      write(source, `${NEW}.json`, `${JSON.stringify({ ...JSON.parse(row(600)), __lsn: "abc" })}\n`),
    exit: 1,
    first: () =>
      new RegExp(
        `^commerce\\.products: ${esc(NEW)}\\.json has a row \\(offset 5\\) whose __lsn "abc" is not a whole number$`,
      ),
  },
  {
    name: "a row without its key",
    bad: ({ source }) => {
      const { id: _, ...noKey } = JSON.parse(row(601)) as Record<string, unknown>;
      write(source, `${NEW}.json`, `${row(600)}\n${JSON.stringify(noKey)}\n`);
    },
    exit: 1,
    first: () =>
      new RegExp(`^commerce\\.products: ${esc(NEW)}\\.json has a row \\(offset 6\\) with NULL id$`),
  },
  {
    name: "a file without the key column",
    bad: ({ source }) => {
      const { id: _, ...noKey } = JSON.parse(row(600)) as Record<string, unknown>;
      write(source, `${NEW}.json`, `${JSON.stringify(noKey)}\n`);
    },
    exit: 1,
    first: () => new RegExp(`^commerce\\.products: ${esc(NEW)}\\.json has no column id$`),
  },
  ...[
    ["../etc.passwd", "--tables"],
    ["commerce.pro'ducts", "--tables"],
    ['commerce."products"', "--tables"],
    ["commerce.products;drop", "--tables"],
  ].map(([value, flag]): Case => ({
    name: `a hostile table name ${value}`,
    bad: () => undefined,
    args: ({ source, output }) => ["run", "--source", source, "--output", output, flag!, value!],
    exit: 2,
    first: () =>
      new RegExp(`^cdc-scd2: invalid --tables ${esc(JSON.stringify(value))}: expected <schema>\\.<table>`),
  })),
  {
    name: "a hostile topic prefix",
    bad: () => undefined,
    args: ({ source, output }) => ["run", "--source", source, "--output", output, "--topic-prefix", "../x"],
    exit: 2,
    first: () => /^cdc-scd2: invalid --topic-prefix "\.\.\/x": expected a Kafka topic prefix/,
  },
  {
    name: "--output under /proc",
    bad: () => undefined,
    args: ({ source }) => ["run", "--source", source, "--output", "/proc/cdc-scd2/out"],
    exit: 2,
    first: () =>
      /^cdc-scd2: invalid --output "\/proc\/cdc-scd2\/out": \/proc is on the kernel's proc file system/,
  },
  {
    name: "--output inside a file",
    bad: ({ source }) => write(source, "not-a-dir", "x"),
    args: ({ source }) => ["run", "--source", source, "--output", path.join(source, "not-a-dir", "out")],
    exit: 2,
    first: ({ source }) =>
      new RegExp(
        `^cdc-scd2: invalid --output "${esc(source)}/not-a-dir/out": ${esc(source)}/not-a-dir is not a directory$`,
      ),
  },
  {
    name: "an unknown option",
    bad: () => undefined,
    args: ({ source, output }) => ["run", "--source", source, "--output", output, "--bogus"],
    exit: 2,
    first: () => /^error: unknown option '--bogus'$/,
  },
  {
    name: "--threads 0",
    bad: () => undefined,
    args: ({ source, output }) => ["run", "--source", source, "--output", output, "--threads", "0"],
    exit: 2,
    first: () => /^cdc-scd2: invalid --threads "0": expected a whole number from 1 to 9999$/,
  },
  {
    name: "a manifest that is not JSON",
    bad: ({ output }) => writeFileSync(path.join(output, "_state", "manifest.json"), '{"version": 2, "tab'),
    exit: 1,
    first: ({ output }) => new RegExp(`^${esc(output)}/_state/manifest\\.json is not JSON: `),
  },
  {
    name: "a manifest of the wrong shape",
    bad: ({ output }) =>
      writeFileSync(path.join(output, "_state", "manifest.json"), '{"version": 2, "tables": 5}'),
    exit: 1,
    first: ({ output }) =>
      new RegExp(
        `^${esc(output)}/_state/manifest\\.json is not a valid manifest: tables: Invalid input: expected record, received number; restore it`,
      ),
  },
  {
    name: "a manifest whose history list was emptied",
    bad: ({ output }) => {
      const file = path.join(output, "_state", "manifest.json");
      const manifest = JSON.parse(readFileSync(file, "utf8")) as {
        tables: Record<string, { history: unknown[] }>;
      };
      manifest.tables["commerce.products"]!.history = [];
      writeFileSync(file, JSON.stringify(manifest));
    },
    exit: 1,
    first: ({ output }) =>
      new RegExp(
        `^${esc(output)}/_state/manifest\\.json does not list products/history/[^ ]+\\.parquet, and no interrupted run can have written it`,
      ),
  },
  {
    name: "a deleted manifest",
    bad: ({ output }) => unlinkSync(path.join(output, "_state", "manifest.json")),
    exit: 1,
    first: ({ output }) =>
      new RegExp(`^${esc(output)}/_state/manifest\\.json is missing, but the output holds `),
  },
  {
    name: "a table file the manifest lists, deleted",
    bad: ({ output }) => {
      const dir = path.join(output, "users", "current");
      for (const file of readdirSync(dir)) unlinkSync(path.join(dir, file));
    },
    exit: 1,
    first: ({ output }) =>
      new RegExp(
        `^${esc(output)}/_state/manifest\\.json lists users/current/[^ ]+\\.parquet of commerce\\.users, which is missing`,
      ),
  },
];

/** The first line of a failed run's message: stderr for usage errors, the JSON error line otherwise. */
function firstLine(result: CliResult): string {
  return result.code === 2 ? result.stderr.split("\n")[0]! : failureLine(result.stdout);
}

describe("cdc-scd2 with bad input", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const dirs = fixtures.fixture();
    expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
    await c.bad(dirs);
    const before = await snapshot(dirs.output).catch(() => ({ files: fileContents(dirs.output) }));
    const started = Date.now();
    const result = await runCli(c.args?.(dirs) ?? ["run", "--source", dirs.source, "--output", dirs.output]);
    const took = Date.now() - started;
    expect({ code: result.code, first: firstLine(result) }).toMatchObject({ code: c.exit });
    expect(firstLine(result)).toMatch(c.first(dirs));
    expect(firstLine(result)).not.toMatch(/LINE \d+:|SELECT |"code":|\{"/); // no SQL, no validation JSON
    expect(took).toBeLessThan(PROCESS_MS);
    if (result.code === 1) expect(jobTime(result.stdout)).toBeLessThan(INPUT_ERROR_MS);
    expect(await snapshot(dirs.output).catch(() => ({ files: fileContents(dirs.output) }))).toEqual(before);
  });
});

/** A change file large enough that a run is still reading or building when a test acts on it. */
function writeLargeFile(source: string): void {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i += 1)
    lines.push(row(1000 + i, { ...desk, id: 10 + (i % 30_000), name: `n${i}` }));
  write(source, `${NEW}.json`, `${lines.join("\n")}\n`);
}

/** The products table a run over the large file commits when nothing stops it (computed once). */
let reference: Promise<Awaited<ReturnType<typeof readScd2>>> | undefined;
function referenceRun(): Promise<Awaited<ReturnType<typeof readScd2>>> {
  reference ??= (async () => {
    const dirs = fixtures.fixture();
    expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
    writeLargeFile(dirs.source);
    expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
    return readScd2(path.join(dirs.output, "products"));
  })();
  return reference;
}

describe("cdc-scd2 stopped by SIGTERM", () => {
  const stages = [
    ["reading the change files", '"table started"'],
    ["building the history", '"step":"ordering changes"'],
    ["about to upload and commit", '"step":"writing state"'],
  ] as const;
  it.each(stages)(
    "while %s: exit 143, the output is as before or as committed, and readable",
    async (_, marker) => {
      const dirs = fixtures.fixture();
      expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
      writeLargeFile(dirs.source);
      const before = await snapshot(dirs.output);
      const committed = await referenceRun();
      let signalled = 0;
      const result = await runCli(["run", "--source", dirs.source, "--output", dirs.output], {
        onStdout: (text, kill) => {
          if (signalled === 0 && text.includes(marker)) {
            signalled = Date.now();
            kill("SIGTERM");
          }
        },
      });
      expect(signalled).toBeGreaterThan(0);
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(result.code).toBe(143);
      expect(failureLine(result.stdout)).toBe("stopped by SIGTERM; the previous output is left intact");
      const after = await readScd2(path.join(dirs.output, "products"));
      expect([before.products, committed]).toContainEqual(after);
      if (marker !== '"step":"writing state"')
        expect((await snapshot(dirs.output)).files).toEqual(before.files);
      // The next run completes the work.
      expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
      expect(await readScd2(path.join(dirs.output, "products"))).toEqual(committed);
    },
  );
});

describe("concurrent runs on one output", () => {
  it("the second fails at once naming the lock; the first completes", async () => {
    const dirs = fixtures.fixture();
    expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
    writeLargeFile(dirs.source);
    let second: Promise<CliResult & { took: number }> | undefined;
    let secondStarted = 0;
    // The first run is paused (SIGSTOP) while it holds the lock, and resumed once the second has ended:
    // on a quiet machine it would otherwise finish before the second one starts.
    const first = await runCli(["run", "--source", dirs.source, "--output", dirs.output], {
      onStdout: (text, kill) => {
        if (!second && text.includes('"table started"')) {
          kill("SIGSTOP");
          secondStarted = Date.now();
          second = runCli(["run", "--source", dirs.source, "--output", dirs.output]).then((r) => {
            kill("SIGCONT");
            return { ...r, took: Date.now() - secondStarted };
          });
        }
      },
    });
    const other = await second!;
    expect(first.code).toBe(0);
    expect(other.code).toBe(1);
    expect(failureLine(other.stdout)).toMatch(
      new RegExp(`^${esc(dirs.output)}/_state/lock is held by run \\d{8}T\\d{9}Z-[0-9a-f]{8} `),
    );
    expect(other.took).toBeLessThan(PROCESS_MS);
    expect(jobTime(other.stdout)).toBeLessThan(INPUT_ERROR_MS);
    expect((await readScd2(path.join(dirs.output, "products"))).versions).toBeGreaterThan(4);
  });
});

describe("on a terminal", () => {
  it("a bad input is one clear line, with no JSON or stack trace after it", async () => {
    const dirs = fixtures.fixture();
    write(dirs.source, `${NEW}.json`, `${row(600)}\n{"id": 9, "name"\n`);
    const command = [process.execPath, "--import", "tsx", path.join(REPO_ROOT, "analytics", "src", "cli.ts")]
      .concat(["run", "--source", dirs.source, "--output", dirs.output])
      .map((a) => `'${a}'`)
      .join(" ");
    // `script` gives the CLI a pseudo-terminal on stdout and stderr.
    const text = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (out += c.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, out }));
    });
    expect(text.code).toBe(1);
    const lines = text.out
      .split(/\r?\n/)
      .filter((l) => l.startsWith("cdc-scd2:") || l.includes("{") || /^\s+at /.test(l));
    expect(lines).toEqual([
      `cdc-scd2: commerce.products: ${NEW}.json line 2 (Kafka offset 6) is not a JSON object: Unexpected end of JSON input`,
    ]);
  });
});

describe("cdc-scd2 stopped by SIGTERM while downloading from S3", () => {
  it("exit 143, the output as before, and its staged downloads removed", async () => {
    const server = await startS3Server(["raw"]);
    try {
      const dirs = fixtures.fixture();
      expect((await runCli(["run", "--source", dirs.source, "--output", dirs.output])).code).toBe(0);
      writeLargeFile(dirs.source);
      const bucket = new S3Storage({ bucket: "raw", prefix: "topics/" }, { client: server.client() });
      for (const entry of readdirSync(dirs.source, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const file = path.join(entry.parentPath, entry.name);
        await bucket.upload(file, path.relative(dirs.source, file).split(path.sep).join("/"));
      }
      const before = await snapshot(dirs.output);
      const tmp = path.join(fixtures.scratch(), `tmp-${Date.now()}`);
      mkdirSync(tmp);
      let signalled = 0;
      const result = await runCli(["run", "--source", "s3://raw/topics", "--output", dirs.output], {
        env: { ...server.env, TMPDIR: tmp },
        onStdout: (text, kill) => {
          // The new file's download starts right after this line.
          if (signalled === 0 && text.includes('"table started"')) {
            signalled = Date.now();
            kill("SIGTERM");
          }
        },
      });
      expect(signalled).toBeGreaterThan(0);
      expect(Date.now() - signalled).toBeLessThan(5_000);
      expect(result.code).toBe(143);
      expect(failureLine(result.stdout)).toBe("stopped by SIGTERM; the previous output is left intact");
      expect(await snapshot(dirs.output)).toEqual(before);
      // The work dir, downloads included, is gone (tsx keeps its own cache there).
      expect(readdirSync(tmp).filter((d) => d.startsWith("cdc-scd2-"))).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
