import type { DatabaseConnection } from "../../connectors/database/connection";

/** A valid connection input for provider checks (nothing connects to it). */
export const CHECKED_CONNECTION: DatabaseConnection = {
  host: "db.internal",
  port: 5432,
  database: "app",
  user: "cdc_admin",
  password: "secret",
  sslMode: "require",
};
