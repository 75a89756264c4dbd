/**
 * The workload real Debezium and the local runtime are both run on (debezium-parity.test.ts, golden.test.ts,
 * json-converter.test.ts, tests/fixtures/debezium/regenerate.ts): the project's commerce tables plus the type
 * table of debezium-type-table.ts, rows that exist before capture (the snapshot), then SQL steps covering what
 * data-contract.md §1-3 describes. Every value is a constant, so two runs differ only in LSNs, txIds and times.
 */
import type pg from "pg";
import { heartbeatActionQuery, PIPELINE_DEFAULTS } from "../../../connectors/config";
import {
  TYPE_TABLE,
  TYPE_TABLE_DDL,
  typeRow,
  typeRowUpdate,
  VALUES_A,
  VALUES_B,
  VALUES_SPECIAL,
} from "./debezium-type-table";

/** md5 text does not compress: > 2 kB of it is stored out of line (TOAST). */
const BIG_TEXT = "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i)";

/** DDL run after the project's source setup, before anything is captured. */
export const PREPARE_SQL = [
  ...TYPE_TABLE_DDL,
  // The users table is captured under REPLICA IDENTITY FULL, the products table under DEFAULT.
  "ALTER TABLE commerce.users REPLICA IDENTITY FULL",
];

/** A products row; `extra` sets columns added later (name → SQL value). */
const product = (
  id: number,
  sku: string,
  price: string,
  description = "NULL",
  extra: Record<string, string> = {},
) =>
  `INSERT INTO commerce.products (id, sku, name, description, price, attributes, in_stock, created_at, updated_at,
     available_from, external_id${Object.keys(extra)
       .map((c) => `, ${c}`)
       .join("")})
   VALUES (${id}, '${sku}', 'Product ${id}', ${description}, ${price}, '{"color": "red", "size": 2}', true,
     '2024-01-0${id} 10:00:00.5+00', '2024-01-0${id} 10:00:00.123456', '2024-02-0${id}',
     '00000000-0000-0000-0000-00000000000${id}'${Object.values(extra)
       .map((v) => `, ${v}`)
       .join("")})`;

const user = (id: number, bio = "NULL"): string =>
  `INSERT INTO commerce.users (id, uuid, email, name, created_at, last_login, birth_date, bio, preferences, is_active)
   VALUES (${id}, '10000000-0000-0000-0000-00000000000${id}', 'user${id}@example.com', 'User ${id}',
     '2023-06-0${id} 08:00:00+00', '2024-03-0${id} 09:15:30.25', '1990-01-0${id}', ${bio}, '{"lang": "en"}', true)`;

/** Rows that exist before capture starts: every connector's snapshot reads them. */
export const SEED_SQL = [
  product(1, "SKU-1", "19.99", BIG_TEXT),
  product(2, "SKU-2", "5"),
  product(3, "SKU-3", "0.10"),
  product(4, "SKU-4", "100.00"),
  user(1),
  user(2, BIG_TEXT),
  typeRow(1, VALUES_A),
  typeRow(2, {}),
  typeRow(6, VALUES_SPECIAL),
];

/** A statement of a step, on the main session or on a second one (for overlapping transactions). */
export interface Statement {
  session: "main" | "other";
  sql: string;
}

export interface WorkloadStep {
  name: string;
  statements: Statement[];
}

/** A step of one transaction on the main session. */
function transaction(name: string, ...statements: string[]): WorkloadStep {
  const main = (sql: string): Statement => ({ session: "main", sql });
  return { name, statements: [main("BEGIN"), ...statements.map(main), main("COMMIT")] };
}

/** The changes made after capture started, in order. */
export const STREAM_STEPS: WorkloadStep[] = [
  // Makes the first change's `sequence` carry a last commit whatever the connectors' own heartbeats did.
  transaction(
    "a transaction on a published table that is not captured (the heartbeat table): no record",
    heartbeatActionQuery(PIPELINE_DEFAULTS.heartbeatTable),
  ),
  transaction(
    "two inserts, NUMERIC with trailing zeros",
    product(5, "SKU-5", "40.00"),
    product(6, "SKU-6", "1.50"),
  ),
  transaction(
    "update leaving a TOASTed column unchanged (DEFAULT)",
    "UPDATE commerce.products SET price = 21.00 WHERE id = 1",
  ),
  transaction("delete (DEFAULT: key-only before-image)", "DELETE FROM commerce.products WHERE id = 4"),
  transaction("primary-key change", "UPDATE commerce.products SET id = 102 WHERE id = 2"),
  transaction(
    "two updates of one row in one transaction",
    "UPDATE commerce.products SET name = 'Renamed 3' WHERE id = 3",
    "UPDATE commerce.products SET price = 0.15, in_stock = false WHERE id = 3",
  ),
  {
    name: "interleaved transactions: T1 updates first, T2 commits first",
    statements: [
      { session: "main", sql: "BEGIN" },
      { session: "main", sql: "UPDATE commerce.products SET name = 'T1' WHERE id = 5" },
      { session: "other", sql: "BEGIN" },
      { session: "other", sql: "UPDATE commerce.products SET name = 'T2' WHERE id = 6" },
      { session: "other", sql: "COMMIT" },
      { session: "main", sql: "COMMIT" },
    ],
  },
  transaction("no-op update (same values)", "UPDATE commerce.products SET name = name WHERE id = 6"),
  transaction(
    "primary-key change of a row with an unchanged TOASTed column (DEFAULT)",
    "UPDATE commerce.products SET id = 101 WHERE id = 1",
  ),
  transaction("FULL: insert", user(3)),
  transaction(
    "FULL: update leaving a TOASTed column unchanged",
    "UPDATE commerce.users SET is_active = false WHERE id = 2",
  ),
  transaction("FULL: delete", "DELETE FROM commerce.users WHERE id = 1"),
  transaction("FULL: primary-key change", "UPDATE commerce.users SET id = 103 WHERE id = 3"),
  transaction(
    "FULL: primary-key change of a row with an unchanged TOASTed column",
    "UPDATE commerce.users SET id = 102 WHERE id = 2",
  ),
  transaction("types: insert the snapshot row's values", typeRow(3, VALUES_A)),
  transaction("types: insert other values", typeRow(4, VALUES_B)),
  transaction("types: insert NaN and infinities", typeRow(5, VALUES_SPECIAL)),
  transaction("types: update every column", typeRowUpdate(3, VALUES_B)),
  transaction(
    "types: delete (DEFAULT: NOT NULL columns from their defaults)",
    `DELETE FROM ${TYPE_TABLE} WHERE id = 4`,
  ),
  transaction(
    "added columns, then an insert and an update",
    "ALTER TABLE commerce.products ADD COLUMN note text, ADD COLUMN rating int NOT NULL DEFAULT 5",
    product(7, "SKU-7", "7.70", "NULL", { note: "'new'" }),
    "UPDATE commerce.products SET note = 'noted', rating = 4 WHERE id = 5",
  ),
];

/** Records each captured table's topic gets: the snapshot rows, then one per change (a key change: two). */
export const EXPECTED_RECORDS: Record<string, { snapshot: number; total: number }> = {
  "commerce.products": { snapshot: 4, total: 19 },
  "commerce.users": { snapshot: 2, total: 9 },
  "commerce.type_zoo": { snapshot: 3, total: 8 },
};

/** The whole workload as data: what the golden fixtures were made from. */
export const WORKLOAD = { prepare: PREPARE_SQL, seed: SEED_SQL, steps: STREAM_STEPS };

/** Runs the stream steps in order, each statement on its session. */
export async function runSteps(sessions: Record<Statement["session"], pg.Client>): Promise<void> {
  for (const step of STREAM_STEPS) {
    try {
      for (const { session, sql } of step.statements) await sessions[session].query(sql);
    } catch (err) {
      throw new Error(`workload step "${step.name}" failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
