/**
 * The source database as the stack's dynamic resources reach it (SqlStatements' DDL, NewTableSnapshots'
 * signal rows): one connection input, checked the same way by every provider that takes it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseSslMode } from "./tls";

/** A role and where it connects. Held as a secret: it carries the password. */
export interface DatabaseConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** libpq sslmode, mapped by `nodePostgresSsl` (RDS forces TLS: the stack never asks for `disable`). */
  sslMode: DatabaseSslMode;
  /** PEM of the CAs the server's certificate must lead to: required by verify-ca and verify-full. */
  caBundle?: string;
}

const SSL_MODES: readonly string[] = ["disable", "require", "verify-ca", "verify-full"];
/**
 * Pulumi's value for an input not known yet (a preview before the database exists); a string, so a
 * serialized provider that calls connectionProblem captures no module.
 */
const UNKNOWN: string = pulumi.runtime.unknownValue;

/**
 * What is wrong with a connection input, if anything, for a provider's `check` (so that `pulumi preview`
 * says it, not a failed connect during `pulumi up`); nothing to say yet while it is unknown.
 */
export function connectionProblem(connection: DatabaseConnection | string | undefined): string | undefined {
  if (connection === UNKNOWN) return undefined;
  if (typeof connection !== "object" || !connection.host) return "must name the host to connect to";
  if (!SSL_MODES.includes(connection.sslMode))
    return `sslMode must be one of ${SSL_MODES.join(", ")} (got ${JSON.stringify(connection.sslMode)})`;
  if (connection.sslMode.startsWith("verify-") && !connection.caBundle)
    return `sslMode ${connection.sslMode} needs caBundle, the CAs to verify the server against`;
  return undefined;
}
