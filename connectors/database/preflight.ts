/**
 * What the user applying the source setup must be allowed to do, checked before anything is
 * created. The server must run with wal_level=logical (the slot). Off a superuser (the RDS master
 * user is not one) PostgreSQL requires:
 * - CREATE on the database (schemas, the publication) and CREATEROLE (the CDC role);
 * - on a schema that already exists: CREATE (the heartbeat and signalling tables) and USAGE WITH
 *   GRANT OPTION (the CDC role's USAGE grant);
 * - on every table the setup grants on or publishes: the owner's rights, as the owner or a member
 *   of the owning role (`CREATE PUBLICATION … FOR TABLE` and `GRANT SELECT` both need them).
 * Where the caller does not create the captured tables (the application owns them), each must
 * exist: the setup publishes and grants on them by name.
 */
import type { SourceSetup } from "./definition";
import { quoteLiteral } from "./sql";

export interface PreflightOptions {
  /** The setup creates the captured tables (CREATE TABLE IF NOT EXISTS) instead of expecting them. */
  createsCapturedTables: boolean;
  /** Appended to the message for a missing captured table: the step that creates it. */
  missingTableStep?: string;
}

const values = (rows: string[][]): string =>
  rows.map((row) => `(${row.map(quoteLiteral).join(", ")})`).join(", ");

/**
 * One query returning a `problem` row (text) per missing right or table, in a stable order; no
 * rows: the setup can run. Read-only: it only looks at the catalogs.
 */
export function preflightSql(setup: SourceSetup, options: PreflightOptions): string {
  const captured = setup.tables.map((t) => [t.qualifiedName, t.schema, t.name]);
  // The published tables the setup creates itself (heartbeat, signalling): checked for ownership only.
  const own = setup.publication.tables
    .filter((name) => !setup.tables.some((t) => t.qualifiedName === name))
    .map((name) => [name, ...name.split(".")] as string[]);
  const step = options.missingTableStep ?? "create it first, then run this setup again";
  const missing = options.createsCapturedTables
    ? ""
    : `
  UNION ALL
  SELECT 2, t.qualified, format('table %s does not exist in database %I: this setup publishes and grants on it but does not create it; %s',
         t.qualified, current_database(), ${quoteLiteral(step)})
  FROM captured t
  WHERE NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = t.schema_name AND c.relname = t.table_name)`;
  return `WITH captured(qualified, schema_name, table_name) AS (VALUES ${values(captured)}),
tables(qualified, schema_name, table_name) AS (SELECT * FROM captured UNION ALL VALUES ${values(own)}),
me AS (SELECT r.rolname, r.rolsuper, r.rolcreaterole FROM pg_roles r WHERE r.rolname = current_user)
SELECT problem FROM (
  SELECT -1 AS ord, '' AS object, format('wal_level is %s: the slot needs wal_level=logical (on RDS: rds.logical_replication=1 in the parameter group, then a reboot)', current_setting('wal_level')) AS problem
  WHERE current_setting('wal_level') <> 'logical'
  UNION ALL
  SELECT 0, '', format('role %I cannot create roles (the CDC role): it needs CREATEROLE', me.rolname) AS problem
  FROM me WHERE NOT (me.rolsuper OR me.rolcreaterole)
  UNION ALL
  SELECT 0, '', format('role %I lacks CREATE on database %I (schemas, the publication): GRANT CREATE ON DATABASE %I TO %I;',
         current_user, current_database(), current_database(), current_user)
  WHERE NOT has_database_privilege(current_database(), 'CREATE')
  UNION ALL
  SELECT 1, n.nspname, format('schema %I is owned by role %I, and role %I lacks CREATE or USAGE WITH GRANT OPTION on it: as %I run GRANT %I TO %I;',
         n.nspname, o.rolname, current_user, o.rolname, o.rolname, current_user)
  FROM pg_namespace n JOIN pg_roles o ON o.oid = n.nspowner
  WHERE n.nspname IN (SELECT schema_name FROM tables)
    AND NOT (has_schema_privilege(n.oid, 'CREATE') AND has_schema_privilege(n.oid, 'USAGE WITH GRANT OPTION'))${missing}
  UNION ALL
  SELECT 3, t.qualified, format('table %s is owned by role %I, and role %I is neither that role nor a member of it: CREATE PUBLICATION … FOR TABLE and GRANT SELECT need the owner''s rights; as %I (or a role with ADMIN OPTION on it) run GRANT %I TO %I;',
         t.qualified, o.rolname, current_user, o.rolname, o.rolname, current_user)
  FROM tables t
  JOIN pg_namespace n ON n.nspname = t.schema_name
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name
  JOIN pg_roles o ON o.oid = c.relowner
  WHERE NOT pg_has_role(c.relowner, 'USAGE')
) checks ORDER BY ord, object`;
}
