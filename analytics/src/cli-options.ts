// The `run` command's flags, validated: each bad value is a UsageError naming the flag and the value.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { DEFAULT_TABLES } from "../../common/pipeline";
import type { ColumnEncoding, TableSpec } from "./job";
import { parseReconcile } from "./scd2/reconcile";
import type { ReconcileWindow } from "./scd2/reconcile";

/** A bad command-line value; the message names the flag and the value. */
export class UsageError extends Error {}

const identifier = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const tableName = z
  .string()
  .refine((t) => t.split(".").length === 2 && t.split(".").every((p) => identifier.test(p)), {
    message: "expected <schema>.<table>, e.g. commerce.products",
  });
const FIXED_ENCODINGS: readonly string[] = [
  ...["micro", "milli", "nano"].flatMap((unit) => [`${unit}-timestamp`, `${unit}-time`]),
  "zoned-timestamp",
  "date",
  "micro-duration",
  "variable-scale-decimal",
  "as-is",
];
const encoding = z
  .string()
  .refine(
    (s) => {
      const decimal = /^decimal\((\d+),(\d+)\)$/.exec(s);
      if (!decimal) return FIXED_ENCODINGS.includes(s);
      const [precision, scale] = [Number(decimal[1]), Number(decimal[2])];
      return precision >= 1 && precision <= 38 && scale <= precision;
    },
    { message: `expected one of ${FIXED_ENCODINGS.join(", ")} or decimal(p,s) with 1 <= p <= 38, s <= p` },
  )
  .transform((s) => s as ColumnEncoding);
const columnList = z
  .array(z.string().regex(identifier, "expected column names"))
  .min(1, "expected at least one column");
const tableConfigFile = z.record(
  tableName,
  z.strictObject({
    primaryKey: columnList.optional(),
    columnTypes: z.record(z.string(), encoding).optional(),
  }),
);
const flagSchemas = {
  "--topic-prefix": z.string().regex(/^[A-Za-z0-9._-]+$/, "expected a Kafka topic prefix such as cdc"),
  "--memory-limit": z
    .string()
    .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "expected a size such as 512MB or 2GiB"),
  "--threads": z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, "expected a whole number from 1 to 9999")
    .transform(Number),
  "--glue-database": z
    .string()
    .regex(/^[a-z0-9_]{1,255}$/, "expected a Glue database name: lower-case letters, digits and _"),
  "--log-level": z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
};

/** Validates `value`; a failure names the flag and the value the user gave (`shown`). */
function check<T>(schema: z.ZodType<T>, flag: string, value: unknown, shown: unknown = value): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const reasons = parsed.error.issues.map((i) =>
    i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message,
  );
  throw new UsageError(`invalid ${flag} ${JSON.stringify(shown)}: ${reasons.join("; ")}`);
}

/** Splits the `<target>=<value>` of a repeatable flag; `shape` tells the user what was expected. */
function splitAssignment(flag: string, value: string, shape: string): [string, string] {
  const at = value.indexOf("=");
  if (at <= 0 || at === value.length - 1) {
    throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected ${shape}`);
  }
  return [value.slice(0, at), value.slice(at + 1)];
}

export interface RawRunOptions {
  source: string;
  output: string;
  tables?: string;
  topicPrefix: string;
  fullRefresh: boolean;
  requireFiles: boolean;
  primaryKey?: string[];
  columnType?: string[];
  tableConfig?: string;
  memoryLimit?: string;
  threads?: string;
  workDir?: string;
  glueDatabase?: string;
  reconcile?: string[];
  logLevel: string;
}

/** --reconcile windows; each names one of the tables to build. */
function reconcileWindows(values: readonly string[], tables: readonly TableSpec[]): ReconcileWindow[] {
  return values.map((value) => {
    let window: ReconcileWindow;
    try {
      window = parseReconcile(value);
    } catch (error) {
      throw new UsageError(`invalid --reconcile ${JSON.stringify(value)}: ${(error as Error).message}`);
    }
    if (!tables.some((t) => t.table === window.table))
      throw new UsageError(
        `invalid --reconcile ${JSON.stringify(value)}: ${window.table} is not in --tables`,
      );
    return window;
  });
}

/** Table specs from --tables, --table-config, --primary-key and --column-type (flags win over the file). */
function buildTableSpecs(raw: RawRunOptions): TableSpec[] {
  let fromFile: z.infer<typeof tableConfigFile> = {};
  if (raw.tableConfig !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(raw.tableConfig, "utf8"));
    } catch (error) {
      throw new UsageError(
        `invalid --table-config ${JSON.stringify(raw.tableConfig)}: ${(error as Error).message}`,
      );
    }
    fromFile = check(tableConfigFile, `--table-config ${raw.tableConfig}`, json);
  }
  const names =
    raw.tables !== undefined
      ? raw.tables.split(",").map((t) => check(tableName, "--tables", t.trim()))
      : Object.keys(fromFile).length > 0
        ? Object.keys(fromFile)
        : DEFAULT_TABLES;
  if (new Set(names).size !== names.length)
    throw new UsageError(`invalid --tables ${JSON.stringify(raw.tables)}: a table is listed twice`);
  const specs = new Map<string, TableSpec>(
    names.map((table) => [
      table,
      {
        table,
        primaryKey: fromFile[table]?.primaryKey ?? ["id"],
        columnTypes: { ...fromFile[table]?.columnTypes },
      },
    ]),
  );
  const specFor = (flag: string, value: string, table: string): TableSpec => {
    const spec = specs.get(table);
    if (!spec)
      throw new UsageError(
        `invalid ${flag} ${JSON.stringify(value)}: table ${table} is not in --tables (${names.join(",")})`,
      );
    return spec;
  };
  for (const value of raw.primaryKey ?? []) {
    const [table, columns] = splitAssignment("--primary-key", value, "<schema>.<table>=<col>[,<col>]");
    const spec = specFor("--primary-key", value, check(tableName, "--primary-key", table, value));
    spec.primaryKey = check(columnList, "--primary-key", columns.split(","), value);
  }
  for (const value of raw.columnType ?? []) {
    const [target, enc] = splitAssignment("--column-type", value, "<schema>.<table>.<column>=<encoding>");
    const dot = target.lastIndexOf(".");
    const table = check(tableName, "--column-type", target.slice(0, Math.max(dot, 0)), value);
    const column = check(
      z.string().regex(identifier, "expected a column name"),
      "--column-type",
      target.slice(dot + 1),
      value,
    );
    specFor("--column-type", value, table).columnTypes![column] = check(
      encoding,
      "--column-type",
      enc,
      value,
    );
  }
  return [...specs.values()];
}

/** Every flag of `run` but the storages and directories, checked. */
export function runFlags(raw: RawRunOptions) {
  const { memoryLimit, threads, glueDatabase } = raw;
  const tables = buildTableSpecs(raw);
  return {
    logLevel: check(flagSchemas["--log-level"], "--log-level", raw.logLevel),
    topicPrefix: check(flagSchemas["--topic-prefix"], "--topic-prefix", raw.topicPrefix),
    memoryLimit:
      memoryLimit === undefined
        ? undefined
        : check(flagSchemas["--memory-limit"], "--memory-limit", memoryLimit),
    threads: threads === undefined ? undefined : check(flagSchemas["--threads"], "--threads", threads),
    glueDatabase:
      glueDatabase === undefined
        ? undefined
        : check(flagSchemas["--glue-database"], "--glue-database", glueDatabase),
    tables,
    reconcile: reconcileWindows(raw.reconcile ?? [], tables),
  };
}
