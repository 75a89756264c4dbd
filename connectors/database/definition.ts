/**
 * The ONE definition of the source database objects both paths create: the commerce tables, the
 * heartbeat table, the CDC role and its grants, the publication and the logical slot. The local
 * pipeline applies it with `applySourceSetup`; infra/ maps the same data onto @pulumi/postgresql
 * Role / Grant / GrantRole / Publication / ReplicationSlot resources.
 */
import { z } from "zod";
import { PIPELINE_DEFAULTS } from "../config/defaults";
import { identifier, parseSettings, qualifiedTable } from "../config/validation";
import {
  CAPTURED_TABLE_COLUMNS,
  HEARTBEAT_COLUMNS,
  SIGNAL_COLUMNS,
  tableDefinition,
  type TableDefinition,
} from "./tables";

export const sourceSetupSettingsSchema = z.strictObject({
  /**
   * `local`: the role gets the REPLICATION attribute (a plain PostgreSQL). `rds`: RDS forbids that
   * attribute; the role is made a member of `rds_replication` instead. Defaults to `local`.
   */
  target: z.enum(["local", "rds"]).default("local"),
  /** Defaults to `cdc_connector`. */
  roleName: identifier.default(PIPELINE_DEFAULTS.cdcRole),
  /** Defaults to `cdc_slot`. */
  slotName: identifier.default(PIPELINE_DEFAULTS.slotName),
  /** Defaults to `cdc_publication`. */
  publicationName: identifier.default(PIPELINE_DEFAULTS.publicationName),
  /** Defaults to `commerce.cdc_heartbeat`. */
  heartbeatTable: qualifiedTable.default(PIPELINE_DEFAULTS.heartbeatTable),
  /** Debezium's signalling table (`signal.data.collection`). Defaults to `commerce.cdc_signal`. */
  signalTable: qualifiedTable.default(PIPELINE_DEFAULTS.signalTable),
  /** REPLICA IDENTITY of the captured tables. Defaults to `default` (PostgreSQL's own default). */
  replicaIdentity: z.enum(["default", "full"]).default("default"),
});

export type SourceSetupSettingsInput = z.input<typeof sourceSetupSettingsSchema>;
export type SourceSetupSettings = z.output<typeof sourceSetupSettingsSchema>;

/** Maps onto postgresql.Role (`login`, `replication`) plus one postgresql.GrantRole per `memberOf`. */
export interface RoleDefinition {
  name: string;
  login: true;
  replication: boolean;
  memberOf: readonly string[];
}

/** Maps onto postgresql.Grant: `{ role, schema, objectType, objects, privileges }` (objects unqualified). */
export interface GrantDefinition {
  role: string;
  schema: string;
  objectType: "schema" | "table";
  objects: readonly string[];
  privileges: readonly string[];
}

/** Maps onto postgresql.Publication (`tables` qualified). */
export interface PublicationDefinition {
  name: string;
  tables: readonly string[];
}

/** Maps onto postgresql.ReplicationSlot. */
export interface SlotDefinition {
  name: string;
  plugin: "pgoutput";
}

export interface SourceSetup {
  /** Schemas to create (those of the captured tables and the heartbeat table). */
  schemas: readonly string[];
  /** The captured tables, in `PIPELINE_DEFAULTS.tables` order. */
  tables: readonly TableDefinition[];
  heartbeatTable: TableDefinition;
  /** Debezium's signalling table: re-snapshot requests and incremental-snapshot watermarks. */
  signalTable: TableDefinition;
  role: RoleDefinition;
  grants: readonly GrantDefinition[];
  publication: PublicationDefinition;
  slot: SlotDefinition;
}

/** Groups table names by schema, keeping first-seen order. */
function bySchema(tables: readonly TableDefinition[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const t of tables) groups.set(t.schema, [...(groups.get(t.schema) ?? []), t.name]);
  return groups;
}

/** The source setup for the given settings (all defaulted: `sourceSetup()` is the standard one). */
export function sourceSetup(input: SourceSetupSettingsInput = {}): SourceSetup {
  const s = parseSettings("source setup settings", sourceSetupSettingsSchema, input);
  const tables = PIPELINE_DEFAULTS.tables.map((name) => {
    const ddl = CAPTURED_TABLE_COLUMNS[name]!;
    return tableDefinition(name, ddl.columns, ddl.unique, s.replicaIdentity);
  });
  const heartbeatTable = tableDefinition(s.heartbeatTable, HEARTBEAT_COLUMNS, [], "default");
  const signalTable = tableDefinition(s.signalTable, SIGNAL_COLUMNS, [], "default");
  const schemas = [...new Set([...tables, heartbeatTable, signalTable].map((t) => t.schema))];

  const grants: GrantDefinition[] = [
    ...schemas.map((schema) => ({
      role: s.roleName,
      schema,
      objectType: "schema" as const,
      objects: [],
      privileges: ["USAGE"],
    })),
    // Snapshots read the captured tables.
    ...[...bySchema(tables)].map(([schema, objects]) => ({
      role: s.roleName,
      schema,
      objectType: "table" as const,
      objects,
      privileges: ["SELECT"],
    })),
    // The heartbeat action query upserts one row.
    {
      role: s.roleName,
      schema: heartbeatTable.schema,
      objectType: "table",
      objects: [heartbeatTable.name],
      privileges: ["INSERT", "SELECT", "UPDATE"],
    },
    // The connector inserts the incremental snapshot's watermarks (insert_insert strategy: no
    // deletes); re-snapshot requests are inserted by an operator or the stack's admin role.
    {
      role: s.roleName,
      schema: signalTable.schema,
      objectType: "table",
      objects: [signalTable.name],
      privileges: ["INSERT", "SELECT"],
    },
  ];

  return {
    schemas,
    tables,
    heartbeatTable,
    signalTable,
    role: {
      name: s.roleName,
      login: true,
      replication: s.target === "local",
      memberOf: s.target === "rds" ? ["rds_replication"] : [],
    },
    grants,
    publication: {
      name: s.publicationName,
      // The heartbeat table is published so its upserts reach the connector and move the slot; the
      // signalling table so that requests and watermarks reach it through the stream.
      tables: [
        ...tables.map((t) => t.qualifiedName),
        heartbeatTable.qualifiedName,
        signalTable.qualifiedName,
      ],
    },
    slot: { name: s.slotName, plugin: "pgoutput" },
  };
}
