/**
 * SQL statement builders for the source setup. Every statement is idempotent: running the whole
 * list twice leaves the database as running it once (and converges a drifted publication/role).
 */
import type {
  GrantDefinition,
  PublicationDefinition,
  RoleDefinition,
  SlotDefinition,
  SourceSetup,
} from "./definition";
import type { TableDefinition } from "./tables";

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `"schema"."table"` from `schema.table`. */
export function quoteQualified(qualifiedName: string): string {
  return qualifiedName.split(".").map(quoteIdent).join(".");
}

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;
}

export function createTableSql(table: TableDefinition): string {
  const columns = table.columns.map(
    (c) =>
      `${quoteIdent(c.name)} ${c.type}${c.nullable ? "" : " NOT NULL"}${c.default === undefined ? "" : ` DEFAULT ${c.default}`}`,
  );
  const constraints = [
    `PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(", ")})`,
    ...table.unique.map((cols) => `UNIQUE (${cols.map(quoteIdent).join(", ")})`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${quoteQualified(table.qualifiedName)} (\n  ${[...columns, ...constraints].join(",\n  ")}\n)`;
}

export function replicaIdentitySql(table: TableDefinition): string {
  return `ALTER TABLE ${quoteQualified(table.qualifiedName)} REPLICA IDENTITY ${table.replicaIdentity.toUpperCase()}`;
}

/**
 * Creates the role if missing, then sets its attributes (and password, when given: the local
 * path; on RDS the Pulumi Role resource owns the password).
 */
export function roleSql(role: RoleDefinition, password?: string): string[] {
  const attributes = [role.login ? "LOGIN" : "NOLOGIN", role.replication ? "REPLICATION" : "NOREPLICATION"];
  if (password !== undefined) attributes.push(`PASSWORD ${quoteLiteral(password)}`);
  return [
    `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(role.name)}) THEN
    CREATE ROLE ${quoteIdent(role.name)};
  END IF;
END $$`,
    `ALTER ROLE ${quoteIdent(role.name)} WITH ${attributes.join(" ")}`,
    ...role.memberOf.map((member) => `GRANT ${quoteIdent(member)} TO ${quoteIdent(role.name)}`),
  ];
}

export function grantSql(grant: GrantDefinition): string {
  const privileges = grant.privileges.join(", ");
  if (grant.objectType === "schema") {
    return `GRANT ${privileges} ON SCHEMA ${quoteIdent(grant.schema)} TO ${quoteIdent(grant.role)}`;
  }
  const tables = grant.objects.map((o) => `${quoteIdent(grant.schema)}.${quoteIdent(o)}`).join(", ");
  return `GRANT ${privileges} ON TABLE ${tables} TO ${quoteIdent(grant.role)}`;
}

/** Creates the publication, or sets its table list to exactly the definition's. */
export function publicationSql(publication: PublicationDefinition): string {
  const tables = publication.tables.map(quoteQualified).join(", ");
  return `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ${quoteLiteral(publication.name)}) THEN
    CREATE PUBLICATION ${quoteIdent(publication.name)} FOR TABLE ${tables};
  ELSE
    ALTER PUBLICATION ${quoteIdent(publication.name)} SET TABLE ${tables};
  END IF;
END $$`;
}

/**
 * Creates the logical slot if missing. It must run outside a transaction that has written
 * (PostgreSQL refuses otherwise), so it is not part of `sourceSetupStatements`.
 */
export function createSlotSql(slot: SlotDefinition): string {
  return `SELECT pg_create_logical_replication_slot(${quoteLiteral(slot.name)}, ${quoteLiteral(slot.plugin)})
WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ${quoteLiteral(slot.name)})`;
}

/** Every statement of the setup except the slot, in dependency order (one transaction). */
export function sourceSetupStatements(setup: SourceSetup, options: { rolePassword?: string } = {}): string[] {
  const tables = [...setup.tables, setup.heartbeatTable, setup.signalTable];
  return [
    ...setup.schemas.map(createSchemaSql),
    ...tables.map(createTableSql),
    ...setup.tables.map(replicaIdentitySql),
    ...roleSql(setup.role, options.rolePassword),
    ...setup.grants.map(grantSql),
    publicationSql(setup.publication),
  ];
}
