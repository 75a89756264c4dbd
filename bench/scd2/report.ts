// The benchmark's summary: a table of runs, the targets of the issue, and the whole report as JSON.
import type { StatementProfile } from "./profile";

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export const fmt = (n: number, digits = 1): string =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits });

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
  figures: {
    fullVsBaseline: number;
    increments: { percent: number; events: number; vsFull: number }[];
    peakRssBytes: number;
    lowMemoryPeakSpillBytes: number;
    lowMemorySameResult: boolean;
    fullPeakLocalDiskFromS3Bytes: number;
    fullWrittenPerInputByte: number;
    fullEstimatedLocalDiskBytes: number;
  };
}

export function printReport(report: Report, lowMemoryLimit: string, slowest?: StatementProfile[]): void {
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
      `incremental runs adding ${added}`,
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
  const targets: [string, boolean, string][] = [
    ["full build <= 1.0x the baseline query", f.fullVsBaseline <= 1.0, `${fmt(f.fullVsBaseline, 2)}x`],
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
    [
      `full build under memory_limit ${lowMemoryLimit} spills and gives the same table`,
      f.lowMemorySameResult && f.lowMemoryPeakSpillBytes > 0,
      `${fmt(f.lowMemoryPeakSpillBytes / MiB, 0)} MiB spilled, same rows (count and hash of every row): ${f.lowMemorySameResult}`,
    ],
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
