/**
 * `DATABASE_URL`: an already running PostgreSQL instead of the embedded server. Before the source
 * setup touches it, `checkExternalDatabase` connects and checks what the setup and the capture need,
 * so a wrong URL or an unsuitable server fails with one message naming every problem, instead of a
 * bare `ECONNREFUSED` or the first `permission denied` of the setup transaction.
 *
 * What the URL's role needs (a superuser has all of it), and why:
 * - wal_level=logical on the server: logical decoding (pgoutput) of the slot;
 * - CREATE on the database: `CREATE SCHEMA commerce` and `CREATE PUBLICATION`;
 * - CREATEROLE: creating the CDC role `cdc_connector` and setting its password on every run;
 * - REPLICATION: creating the logical slot, and handing REPLICATION to the CDC role (PostgreSQL 16+
 *   lets only a role with REPLICATION give it);
 * - ADMIN OPTION on `cdc_connector` if that role already exists (PostgreSQL 16+ gives it to the role
 *   that created it), to run `ALTER ROLE ... PASSWORD`.
 * The tables, publication and grants need ownership of the `commerce` tables: the setup creates them,
 * so this holds unless another role created them first (the setup then fails naming the statement).
 */
import pg from "pg";
import { PIPELINE_DEFAULTS } from "../connectors/config";

/** The URL with its password replaced by `***`, for messages. */
export function redactUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(not a URL)";
  }
}

/** A connection error's message; Node's AggregateError (localhost resolving to ::1 and 127.0.0.1) has none. */
function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(reasonOf))].join("; ");
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return error.message || code || error.name;
  }
  return String(error);
}

interface Capabilities {
  user: string;
  database: string;
  wal_level: string;
  superuser: boolean;
  replication: boolean;
  createrole: boolean;
  can_create: boolean;
  cdc_role_exists: boolean;
  cdc_role_admin: boolean;
}

/** Every reason the server or the URL's role cannot run the pipeline (empty: it can). */
export function externalDatabaseProblems(c: Capabilities, cdcRole: string): string[] {
  const problems: string[] = [];
  if (c.wal_level !== "logical") {
    problems.push(
      `wal_level must be logical (it is "${c.wal_level}"; set wal_level=logical and restart the server)`,
    );
  }
  if (!c.superuser) {
    const missing = [...(c.replication ? [] : ["REPLICATION"]), ...(c.createrole ? [] : ["CREATEROLE"])];
    if (missing.length > 0) {
      problems.push(
        `role "${c.user}" lacks ${missing.join(" and ")} (ALTER ROLE "${c.user}" ${missing.join(" ")})`,
      );
    }
    if (!c.can_create) {
      problems.push(
        `role "${c.user}" lacks CREATE on database "${c.database}" (GRANT CREATE ON DATABASE "${c.database}" TO "${c.user}")`,
      );
    }
    if (c.cdc_role_exists && !c.cdc_role_admin) {
      problems.push(
        `role "${cdcRole}" exists and role "${c.user}" has no ADMIN OPTION on it, so it cannot set its password (GRANT "${cdcRole}" TO "${c.user}" WITH ADMIN OPTION)`,
      );
    }
  }
  return problems;
}

/**
 * Connects to `connectionString` and checks the server and the role; returns the connected client
 * or throws an Error whose message starts with `DATABASE_URL <url, password hidden>` and names
 * every problem.
 */
export async function checkExternalDatabase(
  connectionString: string,
  cdcRole: string = PIPELINE_DEFAULTS.cdcRole,
): Promise<pg.Client> {
  const where = `DATABASE_URL ${redactUrl(connectionString)}`;
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  } catch (error) {
    throw new Error(`${where} is not a PostgreSQL connection URL: ${reasonOf(error)}`, { cause: error });
  }
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new Error(`cannot connect to ${where}: ${reasonOf(error)}`, { cause: error });
  }
  try {
    const { rows } = await client.query<Capabilities>(
      `SELECT current_user AS user, current_database() AS database, current_setting('wal_level') AS wal_level,
              r.rolsuper AS superuser, r.rolreplication AS replication, r.rolcreaterole AS createrole,
              has_database_privilege(current_database(), 'CREATE') AS can_create,
              c.oid IS NOT NULL AS cdc_role_exists,
              c.oid IS NOT NULL AND pg_has_role(c.oid, 'MEMBER WITH ADMIN OPTION') AS cdc_role_admin
       FROM pg_roles r LEFT JOIN pg_roles c ON c.rolname = $1
       WHERE r.rolname = current_user`,
      [cdcRole],
    );
    const problems = externalDatabaseProblems(rows[0]!, cdcRole);
    if (problems.length > 0) {
      throw new Error(`${where} cannot run the pipeline: ${problems.join("; ")}`);
    }
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
