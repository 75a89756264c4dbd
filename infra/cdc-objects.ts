// CDC objects inside the source database, from connectors/database's single definition (the same
// one the local pipeline applies): the CDC role, its grants, the heartbeat
// table (and optionally the commerce tables), the publication and the pgoutput slot.
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import {
  createSchemaSql,
  createTableSql,
  replicaIdentitySql,
  sourceSetup,
  type SourceSetup,
} from "../connectors/database";
import { preflightSql } from "../connectors/database/preflight";
import type { DatabaseConnection } from "../connectors/database/connection";
import { SqlStatements } from "./sql-statements";

export interface CdcObjectsArgs {
  /** Database that holds the captured tables. */
  databaseName: pulumi.Input<string>;
  /** How the DDL resource reaches the database as the master user (a secret). */
  adminConnection: pulumi.Input<DatabaseConnection>;
  /** Create the commerce tables too (the application owns them in production). Defaults to true. */
  createCommerceTables?: boolean;
  /** The CDC role's password (from CdcCredentials). */
  rolePassword: pulumi.Input<string>;
  /** Ephemeral stack: the slot is not protected. Defaults to false. */
  ephemeral?: boolean;
}

/** The step that creates the captured tables where the application owns them (the gate of a first `up`). */
export const MISSING_TABLE_STEP =
  "the application owns the captured tables (createCommerceTables: false): run its migrations so that they " +
  'exist, then run pulumi up again (docs/deploy.md, "Database grants and a first up on an empty database")';

/**
 * What the admin user must be allowed before the stack creates anything in the database (the
 * RDS master user is not a superuser; the application may own the tables), and, where the stack
 * does not create the captured tables, that they exist.
 */
export function ddlChecks(setup: SourceSetup, createCommerceTables: boolean): string[] {
  return [
    preflightSql(setup, {
      createsCapturedTables: createCommerceTables,
      missingTableStep: MISSING_TABLE_STEP,
    }),
  ];
}

/** The DDL the stack runs: schemas, the heartbeat and signalling tables always, the captured tables on request. */
export function ddlStatements(setup: SourceSetup, createCommerceTables: boolean): string[] {
  return [
    ...setup.schemas.map(createSchemaSql),
    ...(createCommerceTables ? setup.tables.map(createTableSql) : []),
    createTableSql(setup.heartbeatTable),
    createTableSql(setup.signalTable),
    ...(createCommerceTables ? setup.tables.map(replicaIdentitySql) : []),
  ];
}

export class CdcObjects extends pulumi.ComponentResource {
  readonly roleName: string;
  readonly slotName: string;
  readonly publicationName: string;
  /** Resources connectors must wait for. */
  readonly ready: pulumi.Resource[];

  /** `opts.providers` must carry the postgresql provider that reaches the database. */
  constructor(name: string, args: CdcObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cdc:database:CdcObjects", name, {}, opts);
    const ephemeral = args.ephemeral ?? false;
    const createCommerceTables = args.createCommerceTables ?? true;
    const setup = sourceSetup({ target: "rds" });
    this.roleName = setup.role.name;
    this.slotName = setup.slot.name;
    this.publicationName = setup.publication.name;

    const ddl = new SqlStatements(
      `${name}-ddl`,
      {
        connection: args.adminConnection,
        checks: ddlChecks(setup, createCommerceTables),
        statements: ddlStatements(setup, createCommerceTables),
      },
      { parent: this },
    );
    const role = new postgresql.Role(
      `${name}-role`,
      {
        name: setup.role.name,
        login: setup.role.login,
        // RDS forbids the REPLICATION attribute; membership in rds_replication grants it.
        replication: setup.role.replication,
        roles: [...setup.role.memberOf],
        password: args.rolePassword,
      },
      // After the DDL resource: its checks run before anything is created in the database.
      { parent: this, dependsOn: [ddl] },
    );
    const grants = setup.grants.map(
      (grant) =>
        new postgresql.Grant(
          `${name}-grant-${grant.objectType}-${grant.schema}-${grant.objects.join("-") || "usage"}`,
          {
            database: args.databaseName,
            role: role.name,
            schema: grant.schema,
            objectType: grant.objectType,
            objects: [...grant.objects],
            privileges: [...grant.privileges],
          },
          { parent: this, dependsOn: [ddl] },
        ),
    );
    const publication = new postgresql.Publication(
      `${name}-publication`,
      { name: setup.publication.name, database: args.databaseName, tables: [...setup.publication.tables] },
      { parent: this, dependsOn: [ddl] },
    );
    // The slot holds the connector's position: dropping it forces a new snapshot, so it is protected.
    const slot = new postgresql.ReplicationSlot(
      `${name}-slot`,
      { name: setup.slot.name, database: args.databaseName, plugin: setup.slot.plugin },
      { parent: this, dependsOn: [publication], protect: !ephemeral },
    );
    this.ready = [role, ...grants, publication, slot];
    this.registerOutputs({ slotName: this.slotName, publicationName: this.publicationName });
  }
}
