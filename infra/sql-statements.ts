// SqlStatements: runs a list of idempotent DDL statements (CREATE ... IF NOT EXISTS) in one
// transaction. The postgresql provider has no table resource; this creates the heartbeat table
// and, where the stack owns them, the commerce tables, from connectors/database's definition.
import * as pulumi from "@pulumi/pulumi";
import type * as Pg from "pg";
// The module itself, not the folder's index: the provider is serialized, and the index would bring the
// table definitions (objects with a `default` key, which Pulumi's closure serializer mistakes for modules).
import { connectionProblem, type DatabaseConnection } from "../connectors/database/connection";
import { nodePostgresSsl } from "../connectors/database/tls";

export interface SqlStatementsInputs {
  connection: DatabaseConnection;
  /**
   * Read-only queries run before any statement, each returning one row per problem (its first
   * column, the message). Any row fails the resource with every problem listed, nothing changed.
   */
  checks?: string[];
  statements: string[];
}

/** What is kept in the state: the statements, never the connection (it carries the password). */
export interface SqlStatementsOutputs {
  statements: string[];
}

/** Run the statements in one transaction; the first failure rolls back and names the statement. */
async function runStatements(news: SqlStatementsInputs): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require("pg") as typeof Pg;
  const { sslMode, caBundle, ...connection } = news.connection;
  const client = new Client({ ...connection, ssl: nodePostgresSsl(sslMode, caBundle) });
  await client.connect();
  try {
    const problems: string[] = [];
    for (const check of news.checks ?? []) {
      const result = await client.query<Record<string, unknown>>(check);
      problems.push(...result.rows.map((row) => String(Object.values(row)[0])));
    }
    if (problems.length > 0) {
      throw new Error(
        `cannot run the statements on ${news.connection.host}/${news.connection.database}, nothing was changed:\n` +
          problems.map((p) => `  - ${p}`).join("\n"),
      );
    }
    await client.query("BEGIN");
    for (const sql of news.statements) {
      try {
        await client.query(sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`SQL failed: ${sql.split("\n")[0]}: ${reason}`);
      }
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/**
 * The provider. Methods create their client inside (a module-level client would not serialize).
 * Deleting the resource leaves the tables: the data in them is not the stack's to drop.
 */
export const sqlStatementsProvider: pulumi.dynamic.ResourceProvider<
  SqlStatementsInputs,
  SqlStatementsOutputs
> = {
  async check(_olds, news) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!Array.isArray(news.statements) || news.statements.length === 0) {
      failures.push({ property: "statements", reason: "must list at least one SQL statement" });
    }
    const problem = connectionProblem(news.connection);
    if (problem) failures.push({ property: "connection", reason: problem });
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    const changed = JSON.stringify(olds.statements) !== JSON.stringify(news.statements);
    return { changes: changed, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    await runStatements(inputs);
    return {
      id: `${inputs.connection.host}/${inputs.connection.database}`,
      outs: { statements: inputs.statements },
    };
  },
  async update(_id, _olds, news) {
    await runStatements(news);
    return { outs: { statements: news.statements } };
  },
  async delete() {
    // Intentionally nothing: see the provider's comment.
  },
};

export interface SqlStatementsArgs {
  /** Where to run the statements; pass it as a secret (it holds the password). */
  connection: pulumi.Input<DatabaseConnection>;
  /** Checks run before the statements (see `SqlStatementsInputs.checks`). Defaults to none. */
  checks?: pulumi.Input<string[]>;
  /** Idempotent statements, run in order in one transaction on create and whenever they change. */
  statements: pulumi.Input<string[]>;
}

export class SqlStatements extends pulumi.dynamic.Resource {
  declare readonly statements: pulumi.Output<string[]>;

  constructor(name: string, args: SqlStatementsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sqlStatementsProvider,
      name,
      { connection: pulumi.secret(args.connection), checks: args.checks ?? [], statements: args.statements },
      opts,
      "cdc",
      "SqlStatements",
    );
  }
}
