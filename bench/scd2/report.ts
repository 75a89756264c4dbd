// The benchmark's summary: a table of runs, the targets of the issue, and the whole report as JSON.
import type { StatementProfile } from "./profile";

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export const fmt = (n: number, digits = 1): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits });

/** The middle value (the mean of the two middle ones for an even count) of at least one. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Report {
  machine: {
    cpus: number;
    memoryGiB: number;
    node: string;
    duckdbNodeApi: string;
    loadAverage: { before: number; after: number };
  };
  data: {
    baseEvents: number;
    baseFiles: number;
    increments: { percent: number; events: number; files: number }[];
    keys: number;
  };
  runs: {
    name: string;
    events: number;
    durationMs: number;
    maxRssBytes: number;
    peakSpillBytes: number;
    peakWorkDirBytes: number;
  }[];
  /** How many times the baseline, the full build and the increments ran; figures are medians. */
  rounds: number;
  figures: {
    /** The full build's duration (median of the rounds). */
    fullDurationMs: number;
    /** Undefined: the baseline was not run (--skip baseline). */
    fullVsBaseline?: number;
    increments: { percent: number; events: number; durationMs: number; vsFull: number }[];
    peakRssBytes: number;
    /** Undefined: the low-memory run was not run (--skip low-memory). */
    lowMemory?: { peakSpillBytes: number; sameResult: boolean };
    fullPeakLocalDiskFromS3Bytes: number;
    fullWrittenPerInputByte: number;
    fullEstimatedLocalDiskBytes: number;
  };
}

/**
 * The figures of a larger history against the default (10M events, 1M keys) report `reference`: the full
 * build at most linear in the events, and the same number of new events costing the same on both.
 */
function scaleTargets(report: Report, reference: Report): [string, boolean, string][] {
  const scale = report.data.baseEvents / reference.data.baseEvents;
  const ratio = report.figures.fullDurationMs / reference.figures.fullDurationMs;
  const targets: [string, boolean, string][] = [
    [
      `full build <= ${fmt(scale * 1.1, 1)}x the ${fmt(reference.data.baseEvents, 0)}-event build (linear, +10%)`,
      ratio <= scale * 1.1,
      `${fmt(ratio, 2)}x (${fmt(report.figures.fullDurationMs / 1000, 1)} s vs ${fmt(reference.figures.fullDurationMs / 1000, 1)} s)`,
    ],
  ];
  for (const increment of report.figures.increments) {
    // The reference increment with about as many new events (e.g. +0.1% of 100M against +1% of 10M).
    const same = reference.figures.increments.find(
      (i) => Math.abs(i.events - increment.events) <= 0.05 * increment.events,
    );
    if (!same) continue;
    targets.push([
      `${fmt(increment.events, 0)} new events cost the same on a history ${fmt(scale, 0)}x larger (within 1.5x)`,
      increment.durationMs <= same.durationMs * 1.5,
      `${fmt(increment.durationMs / 1000, 2)} s vs ${fmt(same.durationMs / 1000, 2)} s`,
    ]);
  }
  return targets;
}

export function printReport(
  report: Report,
  lowMemoryLimit: string,
  extra: { slowest?: StatementProfile[]; reference?: Report } = {},
): void {
  const { slowest, reference } = extra;
  const { machine, data, figures: f } = report;
  const table = [
    ["run", "events", "time", "events/s", "peak RSS", "peak spill", "peak work dir"],
    ...report.runs.map((r) => [
      r.name,
      fmt(r.events, 0),
      `${fmt(r.durationMs / 1000, 2)} s`,
      fmt(r.events / (r.durationMs / 1000), 0),
      `${fmt(r.maxRssBytes / MiB, 0)} MiB`,
      `${fmt(r.peakSpillBytes / MiB, 0)} MiB`,
      `${fmt(r.peakWorkDirBytes / MiB, 0)} MiB`,
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  const added = data.increments.map((i) => `+${i.percent}% (${fmt(i.events, 0)} events)`).join(", ");
  console.log(
    `\nSCD2 benchmark: ${fmt(data.baseEvents, 0)} events in ${data.baseFiles} files over ${fmt(data.keys, 0)} keys; ` +
      `incremental runs adding ${added}` +
      (report.rounds > 1 ? `; ${report.rounds} rounds, figures are medians` : ""),
  );
  console.log(
    `machine: ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, @duckdb/node-api ${machine.duckdbNodeApi}, ` +
      `load average ${fmt(machine.loadAverage.before)} -> ${fmt(machine.loadAverage.after)}\n`,
  );
  table.forEach((r) => console.log(line(r)));
  // The targets of the second round: faster than the naive query, incremental cost in proportion to the
  // new data; RSS: 2 GiB up to 10M events, 4 GiB beyond (100M over 10M keys).
  const rssLimit = data.baseEvents > 20_000_000 ? 4 * GiB : 2 * GiB;
  const onePercent = f.increments.find((i) => i.percent === 1);
  const skipped = (name: string): [string, boolean, string] => [name, false, "not run (--skip)"];
  const targets: [string, boolean, string][] = [
    f.fullVsBaseline === undefined
      ? skipped("full build <= 1.0x the baseline query")
      : ["full build <= 1.0x the baseline query", f.fullVsBaseline <= 1.0, `${fmt(f.fullVsBaseline, 2)}x`],
    ...(onePercent
      ? [
          [
            "incremental +1% <= 5% of the full build",
            onePercent.vsFull <= 0.05,
            `${fmt(onePercent.vsFull * 100)}%`,
          ] as [string, boolean, string],
        ]
      : []),
    [
      `peak RSS < ${fmt(rssLimit / GiB, 0)} GiB`,
      f.peakRssBytes < rssLimit,
      `${fmt(f.peakRssBytes / MiB, 0)} MiB`,
    ],
    f.lowMemory === undefined
      ? skipped(`full build under memory_limit ${lowMemoryLimit} spills and gives the same table`)
      : [
          `full build under memory_limit ${lowMemoryLimit} spills and gives the same table`,
          f.lowMemory.sameResult && f.lowMemory.peakSpillBytes > 0,
          `${fmt(f.lowMemory.peakSpillBytes / MiB, 0)} MiB spilled, same rows (count and hash of every row): ${f.lowMemory.sameResult}`,
        ],
    ...(reference ? scaleTargets(report, reference) : []),
  ];
  targets.push([
    "full build's local disk from S3 (downloads + peak work dir) within the job's pre-run estimate",
    f.fullPeakLocalDiskFromS3Bytes <= f.fullEstimatedLocalDiskBytes,
    `${fmt(f.fullPeakLocalDiskFromS3Bytes / MiB, 0)} MiB peak (work dir ${fmt(f.fullWrittenPerInputByte, 2)}x the input), ` +
      `estimate ${fmt(f.fullEstimatedLocalDiskBytes / MiB, 0)} MiB`,
  ]);
  console.log("");
  for (const [name, ok, value] of targets) console.log(`${ok ? "PASS" : "MISS"}  ${name}: ${value}`);
  console.log("\nincremental cost against the share of new events (it should follow the new data):");
  for (const i of f.increments) console.log(`  +${i.percent}%: ${fmt(i.vsFull * 100)}% of the full build`);
  if (slowest) {
    console.log("\nslowest statements of the profiled full build (DuckDB profile, top operators):");
    for (const s of slowest)
      console.log(`  ${fmt(s.ms / 1000, 2)} s  ${s.sql.slice(0, 160)}\n      ${s.topOperators.join("; ")}`);
  }
  console.log(`\n${JSON.stringify(report, null, 2)}`);
}
