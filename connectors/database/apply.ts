import type { ClientBase } from "pg";
import { sourceSetup, type SourceSetup, type SourceSetupSettingsInput } from "./definition";
import { preflightSql } from "./preflight";
import { createSlotSql, quoteLiteral, sourceSetupStatements } from "./sql";

export interface ApplySourceSetupOptions extends SourceSetupSettingsInput {
  /** Password set on the CDC role (local path). Omit to leave the role's password as it is. */
  rolePassword?: string;
}

/** A setup step failed; the message names the step, and the transaction was rolled back. */
export class SourceSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SourceSetupError";
  }
}

/** Arbitrary but fixed key: concurrent `applySourceSetup` calls on one server run one at a time. */
const SETUP_LOCK_KEY = 7_214_003;

function firstLine(sql: string): string {
  return sql.split("\n")[0]!.replace(/PASSWORD '.*'/, "PASSWORD '***'");
}

async function run(client: ClientBase, sql: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SourceSetupError(`source setup failed at: ${firstLine(sql)}: ${reason}`, { cause: error });
  }
}

/**
 * Applies the source setup through `client` (a superuser, or a role allowed to create roles,
 * publications and slots). Idempotent: safe to run on every start. The schema, tables, role,
 * grants and publication are applied in one transaction; the slot is created afterwards (PostgreSQL
 * cannot create it in a transaction that has written) and checked to be a pgoutput slot of this
 * database.
 */
export async function applySourceSetup(
  client: ClientBase,
  options: ApplySourceSetupOptions = {},
): Promise<SourceSetup> {
  const { rolePassword, ...settings } = options;
  const setup = sourceSetup(settings);

  const walLevel = (await client.query<{ wal_level: string }>("SHOW wal_level")).rows[0]?.wal_level;
  if (walLevel !== "logical") {
    throw new SourceSetupError(
      `wal_level is "${walLevel}": logical decoding needs wal_level=logical (server setting, restart required)`,
    );
  }

  // A role that lacks a right (not a superuser, tables another role owns) fails here, before any change.
  const problems = await client.query<{ problem: string }>(
    preflightSql(setup, { createsCapturedTables: true }),
  );
  if (problems.rows.length > 0) {
    throw new SourceSetupError(
      "source setup cannot run, nothing was changed:\n" +
        problems.rows.map((r) => `  - ${r.problem}`).join("\n"),
    );
  }

  await client.query("SELECT pg_advisory_lock($1)", [SETUP_LOCK_KEY]);
  try {
    await client.query("BEGIN");
    try {
      for (const sql of sourceSetupStatements(setup, rolePassword === undefined ? {} : { rolePassword })) {
        await run(client, sql);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    }
    await run(client, createSlotSql(setup.slot));
    const slot = await client.query<{ plugin: string; database: string; current: string }>(
      `SELECT plugin, database, current_database() AS current FROM pg_replication_slots WHERE slot_name = ${quoteLiteral(setup.slot.name)}`,
    );
    const found = slot.rows[0];
    if (!found || found.plugin !== setup.slot.plugin || found.database !== found.current) {
      throw new SourceSetupError(
        `replication slot "${setup.slot.name}" exists but is not a ${setup.slot.plugin} slot of database ` +
          `"${found?.current ?? "?"}" (plugin ${found?.plugin ?? "none"}, database ${found?.database ?? "none"}); ` +
          `drop it or choose another slot name`,
      );
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [SETUP_LOCK_KEY]);
  }
  return setup;
}
