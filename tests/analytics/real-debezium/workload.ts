/**
 * The source workload: rows that exist before capture starts (the initial snapshot), then transactions
 * covering what the SCD2 rules are about, each recorded in the ground truth at its commit. Keys are given
 * explicitly, so the history of each is known by id.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { GroundTruth } from "./ground-truth";
import { Transaction } from "./ground-truth";

/** Incompressible text well over the TOAST threshold: stored out of line, so unchanged by an update it is not sent. */
export const toastedText = (): string => randomBytes(6144).toString("base64");

/** Products whose history the assertions name, by id. */
export const PRODUCT = {
  /** Updated twice in one transaction, and by two interleaved transactions. */
  collapsed: "1",
  /** Deleted, then inserted again. */
  reinserted: "2",
  /** A TOASTed description left alone by two updates, then changed. */
  toasted: "3",
  /** Its primary key changes to `renamedTo`, its TOASTed description unchanged. */
  renamedFrom: "4",
  renamedTo: "104",
} as const;

/** Users whose history the assertions name, by id. */
export const USER = {
  /** Updated, updated without a change, updated. */
  unchanged: "1",
  /** Updated, then deleted. */
  deleted: "2",
  /** Deleted and inserted again in one transaction. */
  sameTxReinserted: "3",
} as const;

export async function seedSnapshotRows(admin: pg.Client): Promise<void> {
  await admin.query(
    `INSERT INTO commerce.products (id, sku, name, description, price, attributes, available_from) VALUES
       (1, 'p-1', 'Kettle', 'short', 19.90, '{"color": "red"}', '2024-05-01'),
       (2, 'p-2', 'Mug', NULL, 4.50, '{}', NULL),
       (3, 'p-3', 'Lamp', $1, 35.00, '{"watts": 40}', '2024-01-15')`,
    [toastedText()],
  );
  await admin.query(
    `INSERT INTO commerce.users (id, email, name, last_login, birth_date, bio, preferences) VALUES
       (1, 'ada@example.com', 'Ada', '2024-01-02 03:04:05.123456', '1990-05-06', 'mathematician', '{"lang": "en"}'),
       (2, 'grace@example.com', 'Grace', NULL, NULL, NULL, '{}')`,
  );
}

type Statement = string | [string, unknown[]];

/** One transaction on `client`, committed and recorded. */
async function transaction(client: pg.Client, truth: GroundTruth, statements: Statement[]): Promise<void> {
  const tx = await Transaction.begin(client, truth);
  for (const s of statements) await (typeof s === "string" ? tx.run(s) : tx.run(...s));
  await tx.commit();
}

/** The streamed workload; `a` and `b` are two sessions (for interleaved transactions). */
export async function runWorkload(a: pg.Client, b: pg.Client, truth: GroundTruth): Promise<void> {
  const run = (...statements: Statement[]) => transaction(a, truth, statements);
  await run(
    [
      "INSERT INTO commerce.products (id, sku, name, description, price) VALUES (4, 'p-4', 'Desk', $1, 120.00)",
      [toastedText()],
    ],
    "INSERT INTO commerce.users (id, email, name) VALUES (3, 'linus@example.com', 'Linus')",
  );
  await run("UPDATE commerce.products SET price = 21.00 WHERE id = 1");
  await run("UPDATE commerce.products SET name = 'Desk lamp' WHERE id = 3");
  await run("UPDATE commerce.products SET in_stock = false WHERE id = 3");
  await run("DELETE FROM commerce.products WHERE id = 2");
  await run("INSERT INTO commerce.products (id, sku, name, price) VALUES (2, 'p-2', 'Mug v2', 5.00)");
  await run(
    "UPDATE commerce.products SET name = 'Kettle XL' WHERE id = 1",
    "UPDATE commerce.products SET price = 24.00 WHERE id = 1",
  );

  // Interleaved: `first` changes a user before `second` starts, and commits after it (its change has the
  // lower LSN). Their keys differ, except product 1, which `first` updates only once `second` committed.
  const first = await Transaction.begin(a, truth);
  await first.run("UPDATE commerce.users SET name = 'Grace Hopper' WHERE id = 2");
  const second = await Transaction.begin(b, truth);
  await second.run("UPDATE commerce.products SET available_from = '2024-06-01' WHERE id = 1");
  await second.run("UPDATE commerce.users SET email = 'ada@lovelace.example' WHERE id = 1");
  await second.commit();
  await first.run("UPDATE commerce.products SET description = 'a longer kettle description' WHERE id = 1");
  await first.run(`UPDATE commerce.products SET attributes = attributes || '{"size": "L"}' WHERE id = 4`);
  await first.commit();

  await run("UPDATE commerce.users SET name = name WHERE id = 1");
  await run("UPDATE commerce.products SET id = 104 WHERE id = 4");
  await run(
    "DELETE FROM commerce.users WHERE id = 3",
    "INSERT INTO commerce.users (id, email, name) VALUES (3, 'linus@kernel.example', 'Linus T')",
  );
  await run(["UPDATE commerce.products SET description = $1 WHERE id = 3", [toastedText()]]);
  await run("UPDATE commerce.products SET price = 99.00 WHERE id = 104");
  await run("DELETE FROM commerce.users WHERE id = 2");
  await run("UPDATE commerce.users SET last_login = '2024-07-01 10:00:00.5' WHERE id = 1");
}
