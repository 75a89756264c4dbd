// `npm run bench:scd2 [-- --events N --keys K --increments 0.1,1,10 --rounds R --memory-limit X --low-memory-limit Y --threads T --skip baseline,low-memory]`
// Generates (or reuses, under .bench/) a change stream in the sink's Parquet layout, then measures in
// separate processes: the full build with runScd2, the plain baseline query over the same files, an
// incremental run per increment (each on a copy of the full build's output: the percentages of the base
// events it adds), and a full build under a low memory limit (DuckDB must spill). With `--rounds R` the
// baseline, the full build and the increments run R times, interleaved, and each figure is the median
// (a busy machine moves one run by a third). The same number of new
// events on a history ten times larger: `--events 100000000 --keys 10000000 --increments 0.1` against
// the default run's +1%.
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { z } from "zod";
import { WRITTEN_PER_INPUT_BYTE } from "../analytics/src/disk";
import { DEFAULT_MEMORY_LIMIT } from "../analytics/src/duck";
import { createProgress } from "../common/progress";
import type { RunSummary } from "../analytics/src/job";
import type { ChildArgs, ChildResult } from "./scd2/child";
import { DEFAULT_INCREMENT_PERCENTS, combine, generate } from "./scd2/generate";
import { fmt, median, printReport } from "./scd2/report";

const ROOT = path.resolve(__dirname, "..");
/** Progress on stderr: plain lines on a terminal, JSON lines otherwise; the report goes to stdout. */
const progress = createProgress({ component: "bench-scd2" });
import { GiB, MiB } from "./scd2/report";

const size = z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, "expected a size such as 512MB");
const count = z.coerce.number().int().positive();
const Options = z.object({
  events: count.default(10_000_000),
  keys: count.default(1_000_000),
  partitions: count.default(4),
  "file-rows": count.default(100_000),
  /** The same limit for the job and the baseline query; default: the job's. */
  "memory-limit": size.default(DEFAULT_MEMORY_LIMIT),
  "low-memory-limit": size.default("512MB"),
  threads: count.optional(),
  /** Incremental runs, as percentages of the base events (comma-separated). */
  increments: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, "expected percentages such as 0.1,1,10")
    .transform((text) => [...new Set(text.split(",").map(Number))].sort((a, b) => a - b))
    .refine((percents) => percents.every((p) => p > 0 && p <= 100), "each percentage must be in (0, 100]")
    .default([...DEFAULT_INCREMENT_PERCENTS]),
  /** Rounds of the baseline, the full build and the increments, interleaved; figures are medians. */
  rounds: count.default(1),
  /** Profile the full build's SQL statements (adds some overhead; for finding where time goes). */
  profile: z.boolean().default(false),
  /** Runs to leave out (comma-separated): at 100M events the baseline and low-memory runs take long. */
  skip: z
    .string()
    .regex(/^(baseline|low-memory)(,(baseline|low-memory))*$/, "expected baseline, low-memory or both")
    .optional()
    .transform((text) => new Set(text?.split(",") ?? [])),
});

interface Measured extends ChildResult {
  name: string;
  /** Change events in the files the run read. */
  events: number;
  /** Largest size the DuckDB spill directory reached while the run went on. */
  peakSpillBytes: number;
  /** Largest size the whole work dir reached: spill plus the files written before upload. */
  peakWorkDirBytes: number;
  /** Size of the change files the run read: what it downloads into the work dir from S3. */
  sourceBytes: number;
}

function directorySize(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    try {
      total += entry.isDirectory() ? directorySize(full) : statSync(full).size;
    } catch {
      // A spill file removed while we looked.
    }
  }
  return total;
}

/** Runs bench/scd2/child.ts with `args`, watching its spill directory; fails loudly if it fails. */
function measure(name: string, events: number, args: ChildArgs): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "scd2", "child.ts"), JSON.stringify(args)],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let stdout = "";
    let peakSpillBytes = 0;
    let peakWorkDirBytes = 0;
    const spill = path.join(args.workDir, "duckdb-spill");
    const poll = setInterval(() => {
      peakSpillBytes = Math.max(peakSpillBytes, directorySize(spill));
      peakWorkDirBytes = Math.max(peakWorkDirBytes, directorySize(args.workDir));
    }, 200);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${name}: the child process exited with ${code}`));
      const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as ChildResult;
      const sourceBytes = directorySize(args.source);
      resolve({ name, events, peakSpillBytes, peakWorkDirBytes, sourceBytes, ...result });
    });
  });
}

/** Row count and an order-independent hash of every row of an SCD2 table's files. */
async function tableChecksum(dir: string): Promise<string> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const glob = path.join(dir, "**", "*.parquet").replaceAll("'", "''");
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n, bit_xor(hash(t)) AS h FROM read_parquet('${glob}') t`,
    );
    const [row] = reader.getRowObjectsJson();
    return `${String(row?.n)}:${String(row?.h)}`;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: Object.fromEntries(
      Object.keys(Options.shape).map((k) => [
        k,
        { type: k === "profile" ? ("boolean" as const) : ("string" as const) },
      ]),
    ),
  });
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    console.error(`bench:scd2: invalid --${issue.path.join(".")}: ${issue.message}`);
    process.exit(2);
  }
  const o = parsed.data;
  const dataDir = path.join(
    ROOT,
    ".bench",
    "scd2",
    `${o.events}-${o.keys}-${o.partitions}-${o["file-rows"]}`,
  );
  progress.step(
    `generating ${fmt(o.events, 0)} events over ${fmt(o.keys, 0)} keys in ${dataDir} (cached) ...`,
    {
      event: "generate",
    },
  );
  const data = await generate(
    {
      events: o.events,
      keys: o.keys,
      partitions: o.partitions,
      fileRows: o["file-rows"],
      incrementPercents: o.increments,
      dir: dataDir,
    },
    (line) => progress.step(`  ${line}`, { event: "generate" }),
  );

  const runs = path.join(dataDir, "runs");
  rmSync(runs, { recursive: true, force: true });
  const common = { memoryLimit: o["memory-limit"], threads: o.threads };
  const out = (name: string) => path.join(runs, name);
  const results: Measured[] = [];
  const step = async (name: string, events: number, args: Omit<ChildArgs, "workDir">) => {
    progress.step(`running ${name} ...`, { event: "run-started", run: name });
    const result = await measure(name, events, { ...args, workDir: out(`work-${results.length}`) });
    progress.step(
      `  ${name}: ${fmt(result.durationMs / 1000, 2)} s, peak RSS ${fmt(result.maxRssBytes / MiB, 0)} MiB`,
      { event: "run-done", run: name, durationMs: result.durationMs, maxRssBytes: result.maxRssBytes },
    );
    results.push(result);
    return result;
  };
  const job = (source: string, output: string, fullRefresh: boolean) =>
    ({ mode: "job", source, output: out(output), fullRefresh, ...common }) as const;

  const loadBefore = os.loadavg()[0]!;
  const baselineRuns: Measured[] = [];
  const fullRuns: Measured[] = [];
  const incrementRuns = data.increments.map(() => [] as Measured[]);
  let fullChecksum: string | undefined;
  for (let round = 1; round <= o.rounds; round += 1) {
    const of = o.rounds > 1 ? ` (round ${round}/${o.rounds})` : "";
    if (!o.skip.has("baseline")) {
      baselineRuns.push(
        await step(`baseline query${of}`, data.baseEvents, {
          ...job(data.base, "baseline", true),
          mode: "baseline",
        }),
      );
    }
    rmSync(out("scd2"), { recursive: true, force: true });
    fullRuns.push(await step(`full build${of}`, data.baseEvents, job(data.base, "scd2", true)));
    // Taken now: the incremental runs below start from this output. Every round builds the same rows.
    const checksum = await tableChecksum(path.join(out("scd2"), "products"));
    if (fullChecksum !== undefined && checksum !== fullChecksum) {
      throw new Error(`full build${of}: rows ${checksum} differ from the first round's ${fullChecksum}`);
    }
    fullChecksum = checksum;
    for (const [i, increment] of data.increments.entries()) {
      const name = `plus-${increment.percent}pct`;
      combine(out(`source-${name}`), data.base, ...increment.dirs);
      // Each increment starts from the full build's output; the copy is dropped after its run.
      cpSync(out("scd2"), out(`scd2-${name}`), { recursive: true });
      incrementRuns[i]!.push(
        await step(
          `incremental +${increment.percent}%${of}`,
          increment.events,
          job(out(`source-${name}`), `scd2-${name}`, false),
        ),
      );
      rmSync(out(`scd2-${name}`), { recursive: true, force: true });
      rmSync(out(`source-${name}`), { recursive: true, force: true });
    }
  }
  const full = fullRuns.at(-1)!;
  const peakWorkDirBytes = Math.max(...fullRuns.map((r) => r.peakWorkDirBytes));
  const fullMs = median(fullRuns.map((r) => r.durationMs));
  const baselineMs = baselineRuns.length > 0 ? median(baselineRuns.map((r) => r.durationMs)) : undefined;
  const incrementals = data.increments.map((increment, i) => {
    const durationMs = median(incrementRuns[i]!.map((r) => r.durationMs));
    return {
      percent: increment.percent,
      events: increment.events,
      durationMs,
      maxRssBytes: Math.max(...incrementRuns[i]!.map((r) => r.maxRssBytes)),
      vsFull: durationMs / fullMs,
    };
  });
  const low = o.skip.has("low-memory")
    ? undefined
    : await step(`full build, memory_limit ${o["low-memory-limit"]}`, data.baseEvents, {
        ...job(data.base, "scd2-low-memory", true),
        memoryLimit: o["low-memory-limit"],
      });
  const lowChecksum = low && (await tableChecksum(path.join(out("scd2-low-memory"), "products")));
  const profiled = o.profile
    ? await step("full build, profiled", data.baseEvents, {
        ...job(data.base, "scd2-profiled", true),
        profile: true,
      })
    : undefined;

  const versions = (r: Measured) => (r.summary as RunSummary | undefined)?.tables[0]?.versions;
  const report = {
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / GiB),
      node: process.version,
      duckdbNodeApi: (
        JSON.parse(readFileSync(require.resolve("@duckdb/node-api/package.json"), "utf8")) as {
          version: string;
        }
      ).version,
      loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
    },
    data: { ...data, partitions: o.partitions, fileRows: o["file-rows"], keys: o.keys },
    rounds: o.rounds,
    runs: results,
    figures: {
      fullDurationMs: fullMs,
      baselineDurationMs: baselineMs,
      fullEventsPerSecond: Math.round(data.baseEvents / (fullMs / 1000)),
      baselineEventsPerSecond: baselineMs && Math.round(data.baseEvents / (baselineMs / 1000)),
      fullVsBaseline: baselineMs && fullMs / baselineMs,
      increments: incrementals,
      peakRssBytes: Math.max(
        ...fullRuns.map((r) => r.maxRssBytes),
        ...incrementals.map((r) => r.maxRssBytes),
      ),
      lowMemory: low && {
        peakSpillBytes: low.peakSpillBytes,
        sameResult: versions(low) === versions(full) && lowChecksum === fullChecksum,
      },
      // Reading from S3, the job downloads every change file into the work dir and keeps it there until
      // the run ends: its peak local disk is that plus the work dir's own peak (measured here, where the
      // source is a local directory it reads in place).
      fullPeakLocalDiskFromS3Bytes: full.sourceBytes + peakWorkDirBytes,
      fullWrittenPerInputByte: peakWorkDirBytes / full.sourceBytes,
      fullEstimatedLocalDiskBytes: full.sourceBytes * (1 + WRITTEN_PER_INPUT_BYTE),
    },
  };
  // Each data set's report is kept: a larger one is compared with the default (10M events) one.
  const resultsFile = (events: number, keys: number) =>
    path.join(ROOT, ".bench", `scd2-results-${events}-${keys}.json`);
  const smaller = resultsFile(10_000_000, 1_000_000);
  const reference =
    o.events > 10_000_000 && existsSync(smaller)
      ? (JSON.parse(readFileSync(smaller, "utf8")) as typeof report)
      : undefined;
  printReport(report, o["low-memory-limit"], { slowest: profiled?.slowest, reference });
  writeFileSync(resultsFile(o.events, o.keys), JSON.stringify(report, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
