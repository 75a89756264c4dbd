// TLS from the DDL resource to the database: the sslmode mapping onto node-postgres, table-driven,
// then each mode for real against an embedded PostgreSQL serving a certificate from a test CA
// (openssl, tls-server.ts): verify-full passes with that CA and the host the certificate names, and fails with
// another CA or another host name. Also where the CAs come from (loadCaBundle), without network.
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodePostgresSsl, type DatabaseSslMode } from "../../connectors/database";
import { CA_BUNDLE_ENV, loadCaBundle, rdsCaBundleUrl } from "../../infra/database-tls";
import type { DatabaseConnection } from "../../connectors/database/connection";
import { sqlStatementsProvider } from "../../infra/sql-statements";
import type { EmbeddedPostgres } from "../../local/postgres";
import { TLS_POSTGRES_PASSWORD, startTlsPostgres, type TlsPostgres } from "./tls-server";

const provider = sqlStatementsProvider as Required<typeof sqlStatementsProvider>;

let tls: TlsPostgres;
let server: EmbeddedPostgres;
let root: string;
let rightCa: string;
let wrongCa: string;

beforeAll(async () => {
  tls = await startTlsPostgres();
  ({ server, rightCa, wrongCa, dir: root } = tls);
}, 120_000);

afterAll(async () => {
  await tls?.stop();
});

describe("nodePostgresSsl", () => {
  const ca = "-----BEGIN CERTIFICATE-----\n...";
  it.each<[DatabaseSslMode, string | undefined, unknown]>([
    ["disable", undefined, false],
    ["disable", ca, false],
    ["require", undefined, { rejectUnauthorized: false }],
    ["require", ca, { rejectUnauthorized: false }],
    ["verify-ca", ca, { ca, rejectUnauthorized: true, checkServerIdentity: expect.any(Function) }],
    ["verify-full", ca, { ca, rejectUnauthorized: true }],
  ])("%s (ca: %s)", (mode, bundle, expected) => {
    expect(nodePostgresSsl(mode, bundle)).toEqual(expected);
  });

  it("verify-ca accepts any host name; verify-full leaves the check to Node", () => {
    const verifyCa = nodePostgresSsl("verify-ca", ca) as { checkServerIdentity: () => unknown };
    expect(verifyCa.checkServerIdentity()).toBeUndefined();
    expect(nodePostgresSsl("verify-full", ca)).not.toHaveProperty("checkServerIdentity");
  });

  it.each<DatabaseSslMode>(["verify-ca", "verify-full"])("%s without CAs is an error", (mode) => {
    expect(() => nodePostgresSsl(mode)).toThrow(
      `sslmode ${mode} needs the certificate authorities to verify against (none given)`,
    );
  });
});

describe("the DDL resource against a TLS server", () => {
  const connection = (host: string, sslMode: DatabaseSslMode, caBundle?: string): DatabaseConnection => ({
    host,
    port: server.port,
    database: "postgres",
    user: "postgres",
    password: TLS_POSTGRES_PASSWORD,
    sslMode,
    ...(caBundle ? { caBundle } : {}),
  });
  let probe = 0;
  /** Runs the provider; resolves to whether the session it opened was encrypted. */
  async function encrypted(conn: DatabaseConnection): Promise<boolean> {
    probe += 1;
    const table = `tls_probe_${probe}`;
    await provider.create({
      connection: conn,
      statements: [`CREATE TABLE ${table} AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`],
    });
    const client = new Client({
      host: "localhost",
      port: server.port,
      user: "postgres",
      password: TLS_POSTGRES_PASSWORD,
      database: "postgres",
    });
    await client.connect();
    try {
      return (await client.query<{ ssl: boolean }>(`SELECT ssl FROM ${table}`)).rows[0]!.ssl;
    } finally {
      await client.end();
    }
  }

  it.each<[string, DatabaseSslMode, "right" | "wrong" | "none", boolean]>([
    ["localhost", "verify-full", "right", true],
    ["127.0.0.1", "verify-ca", "right", true],
    ["localhost", "verify-ca", "right", true],
    ["localhost", "require", "wrong", true],
    ["127.0.0.1", "require", "none", true],
    ["localhost", "disable", "none", false],
  ])("connects to %s with %s (%s CA): encrypted %s", async (host, mode, ca, expected) => {
    const bundle = ca === "right" ? rightCa : ca === "wrong" ? wrongCa : undefined;
    expect(await encrypted(connection(host, mode, bundle))).toBe(expected);
  });

  it("verify-full refuses a server whose certificate another CA signed", async () => {
    await expect(
      provider.create({
        connection: connection("localhost", "verify-full", wrongCa),
        statements: ["SELECT 1"],
      }),
    ).rejects.toThrow("unable to verify the first certificate");
  });

  it("verify-ca refuses it too", async () => {
    await expect(
      provider.create({
        connection: connection("127.0.0.1", "verify-ca", wrongCa),
        statements: ["SELECT 1"],
      }),
    ).rejects.toThrow("unable to verify the first certificate");
  });

  it("verify-full refuses a host name the certificate does not name", async () => {
    await expect(
      provider.create({
        connection: connection("127.0.0.1", "verify-full", rightCa),
        statements: ["SELECT 1"],
      }),
    ).rejects.toThrow(
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list",
    );
  });
});

describe("loadCaBundle", () => {
  const noDownload = async (): Promise<string> => {
    throw new Error("no download expected");
  };

  it(`uses the PEM file ${CA_BUNDLE_ENV} names, without downloading`, async () => {
    const bundle = await loadCaBundle(
      "eu-west-1",
      { [CA_BUNDLE_ENV]: join(root, "test-ca.pem") },
      noDownload,
    );
    expect(bundle.pem).toBe(rightCa);
    expect(bundle.file).toBe(join(root, "test-ca.pem"));
    expect(bundle.origin).toMatch(new RegExp(`^${join(root, "test-ca.pem")} \\(sha256 [0-9a-f]{64}\\)$`));
  });

  it("refuses a file that is not a CA bundle, naming it", async () => {
    const env = { [CA_BUNDLE_ENV]: join(root, "server.pem") };
    await expect(loadCaBundle("eu-west-1", env, noDownload)).rejects.toThrow(
      `${CA_BUNDLE_ENV}=${join(root, "server.pem")}: certificate 1 (CN=localhost) is not a CA certificate`,
    );
    await expect(
      loadCaBundle("eu-west-1", { [CA_BUNDLE_ENV]: join(root, "missing.pem") }, noDownload),
    ).rejects.toThrow(`${CA_BUNDLE_ENV}=${join(root, "missing.pem")} cannot be read: ENOENT`);
  });

  it("downloads the region's RDS bundle and keeps it in a file for the postgresql provider", async () => {
    const asked: string[] = [];
    const bundle = await loadCaBundle("eu-west-1", {}, async (url) => {
      asked.push(url);
      return rightCa + wrongCa;
    });
    expect(asked).toEqual(["https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem"]);
    expect(bundle.file).toBe(join(tmpdir(), "cdc-pipeline-rds-ca", "eu-west-1-bundle.pem"));
    expect(readFileSync(bundle.file, "utf8")).toBe(rightCa + wrongCa);
  });

  it("fails naming the URL and the way around when the download fails or is not a bundle", async () => {
    const url = rdsCaBundleUrl("eu-west-1");
    await expect(
      loadCaBundle("eu-west-1", {}, async () => {
        throw new Error("getaddrinfo ENOTFOUND truststore.pki.rds.amazonaws.com");
      }),
    ).rejects.toThrow(
      `cannot download the RDS CA bundle ${url} (databaseSslMode verify-ca/verify-full needs it): getaddrinfo ENOTFOUND ` +
        `truststore.pki.rds.amazonaws.com; let this machine reach truststore.pki.rds.amazonaws.com over HTTPS, or ` +
        `download the file elsewhere and set ${CA_BUNDLE_ENV} to its path`,
    );
    await expect(loadCaBundle("eu-west-1", {}, async () => "<html>captive portal</html>")).rejects.toThrow(
      `${url} holds no PEM certificate`,
    );
  });
});
