/**
 * TLS to the source database as libpq's `sslmode` means it, for node-postgres: used by the stack's DDL
 * resource and by the local connector runtime (whose `database.sslmode` / `database.sslrootcert` are
 * Debezium's).
 */
import type { ConnectionOptions } from "node:tls";

/** libpq's sslmode values the stack can ask for (`allow`/`prefer` may fall back to plain text). */
export type DatabaseSslMode = "disable" | "require" | "verify-ca" | "verify-full";

/**
 * node-postgres `ssl` for a libpq sslmode:
 * - `disable`: no TLS;
 * - `require`: TLS, no certificate check (libpq's meaning when no root certificate is given);
 * - `verify-ca`: the chain must lead to `ca`, any host name;
 * - `verify-full`: the chain must lead to `ca` and the certificate must name the host connected to.
 */
export function nodePostgresSsl(mode: DatabaseSslMode, ca?: string): false | ConnectionOptions {
  if (mode === "disable") return false;
  if (mode === "require") return { rejectUnauthorized: false };
  if (!ca)
    throw new Error(`sslmode ${mode} needs the certificate authorities to verify against (none given)`);
  return mode === "verify-ca"
    ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
    : { ca, rejectUnauthorized: true };
}
