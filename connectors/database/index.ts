export {
  sourceSetup,
  sourceSetupSettingsSchema,
  type SourceSetup,
  type SourceSetupSettings,
  type SourceSetupSettingsInput,
  type RoleDefinition,
  type GrantDefinition,
  type PublicationDefinition,
  type SlotDefinition,
} from "./definition";
export {
  PRODUCTS_COLUMNS,
  USERS_COLUMNS,
  HEARTBEAT_COLUMNS,
  SIGNAL_COLUMNS,
  type ColumnDefinition,
  type TableDefinition,
} from "./tables";
export {
  createSchemaSql,
  createTableSql,
  createSlotSql,
  grantSql,
  publicationSql,
  quoteIdent,
  quoteLiteral,
  quoteQualified,
  replicaIdentitySql,
  roleSql,
  sourceSetupStatements,
} from "./sql";
export { applySourceSetup, SourceSetupError, type ApplySourceSetupOptions } from "./apply";
export { nodePostgresSsl, type DatabaseSslMode } from "./tls";
