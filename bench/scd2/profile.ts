// Where the job's time goes, without touching the engine: wraps the Duck class the job runs its SQL
// through, times every statement, and has DuckDB write its JSON profile (EXPLAIN ANALYZE's data) of each.
import { mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { Duck } from "../../analytics/src/duck";

export interface StatementProfile {
  ms: number;
  sql: string;
  /** The operators that took the most time, as "NAME ms (rows)". */
  topOperators: string[];
}

interface ProfileNode {
  operator_name?: string;
  operator_timing?: number;
  operator_cardinality?: number;
  children?: ProfileNode[];
}

function operators(node: ProfileNode, into: ProfileNode[] = []): ProfileNode[] {
  if (node.operator_name) into.push(node);
  for (const child of node.children ?? []) operators(child, into);
  return into;
}

export async function profileStatements(dir: string): Promise<{ slowest(n: number): StatementProfile[] }> {
  mkdirSync(dir, { recursive: true });
  const statements: StatementProfile[] = [];
  const enabled = new WeakSet<Duck>();
  let counter = 0;
  const wrap = <K extends "run" | "rows">(name: K) => {
    const original = Duck.prototype[name] as (this: Duck, sql: string) => Promise<unknown>;
    (Duck.prototype as unknown as Record<string, unknown>)[name] = async function (this: Duck, sql: string) {
      if (!enabled.has(this)) {
        enabled.add(this);
        await original.call(this, "PRAGMA enable_profiling = 'json'");
      }
      const file = path.join(dir, `q${++counter}.json`);
      await original.call(this, `SET profiling_output = '${file}'`);
      const started = performance.now();
      const result = await original.call(this, sql);
      const ms = performance.now() - started;
      let top: string[] = [];
      try {
        const tree = JSON.parse(readFileSync(file, "utf8")) as ProfileNode;
        top = operators(tree)
          .sort((a, b) => (b.operator_timing ?? 0) - (a.operator_timing ?? 0))
          .slice(0, 4)
          .map(
            (o) =>
              `${o.operator_name?.trim()} ${Math.round((o.operator_timing ?? 0) * 1000)}ms (${o.operator_cardinality ?? 0} rows)`,
          );
      } catch {
        // Statements without a profile (SET, PRAGMA).
      }
      statements.push({ ms: Math.round(ms), sql: sql.replace(/\s+/g, " ").slice(0, 300), topOperators: top });
      return result;
    };
  };
  wrap("run");
  wrap("rows");
  return { slowest: (n) => [...statements].sort((a, b) => b.ms - a.ms).slice(0, n) };
}
