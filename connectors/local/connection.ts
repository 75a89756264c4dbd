/**
 * Connections to the source PostgreSQL: TLS as `database.sslmode` asks, and a limit on every network
 * step, so a server that accepts TCP and then never answers fails the runtime instead of holding it.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { nodePostgresSsl } from "../database";
import { SESSION_OPTIONS } from "./catalog";
import type { SourceSettings } from "./source-config";

/**
 * How long connecting (TCP, TLS and login) may take, as pgjdbc's `connectTimeout` default under Debezium;
 * a server that accepts and never answers would otherwise hold the start-up forever.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The CAs of `database.sslrootcert`, read once per connection (a missing file names the key). */
function caBundle(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read database.sslrootcert ${file}: ${(err as Error).message}`);
  }
}

/** What every connection shares; the replication one takes it as it is (its stream never "answers"). */
export function clientConfig(settings: SourceSettings): pg.ClientConfig {
  const db = settings.database;
  return {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.dbname,
    ssl: nodePostgresSsl(db.sslMode, caBundle(db.sslRootCert)),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Debezium's database.tcpKeepAlive default: a vanished server is noticed on an idle connection too.
    keepAlive: true,
  };
}

/**
 * How long after `database.query.timeout.ms` the client stops waiting for the server's own cancel: the
 * server's answer names the cause, and a query it cancelled does not run on after the runtime gave up.
 */
export const QUERY_CANCEL_GRACE_MS = 5_000;

/**
 * The connection for catalog reads, snapshots and signals. `database.query.timeout.ms` bounds each
 * query twice, as pgjdbc's query timeout does: the server cancels it (`statement_timeout`, so a query
 * blocked on a lock does not linger), and the client stops waiting a little later (a server that went
 * silent answers no cancel).
 */
export function queryClient(settings: SourceSettings): pg.Client {
  const timeout = settings.database.queryTimeoutMs;
  return new pg.Client({
    ...clientConfig(settings),
    options: SESSION_OPTIONS,
    ...(timeout > 0 ? { statement_timeout: timeout, query_timeout: timeout + QUERY_CANCEL_GRACE_MS } : {}),
  });
}

/** Connects `client`; a failure names the server, which pg's own messages do not. */
export async function connectTo(client: pg.Client, settings: SourceSettings): Promise<void> {
  const { host, port } = settings.database;
  try {
    await client.connect();
  } catch (err) {
    const limit = `connect timeout ${CONNECT_TIMEOUT_MS / 1000} s`;
    throw new Error(`cannot connect to PostgreSQL at ${host}:${port} (${limit}): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** pg's own timeout, or the server's `statement_timeout` cancel (SQLSTATE 57014 with that message). */
function isQueryTimeout(err: Error): boolean {
  return (
    err.message === "Query read timeout" ||
    ((err as { code?: string }).code === "57014" && /statement timeout/.test(err.message))
  );
}

/** A query that ran out of time, said with the server and the key that sets the limit; others unchanged. */
export function explainQueryTimeout(err: Error, settings: SourceSettings): Error {
  if (!isQueryTimeout(err)) return err;
  const { host, port, queryTimeoutMs } = settings.database;
  return new Error(
    `PostgreSQL at ${host}:${port} did not answer a query within ${queryTimeoutMs / 1000} s ` +
      `(database.query.timeout.ms = ${queryTimeoutMs}): ${err.message}`,
    { cause: err },
  );
}
