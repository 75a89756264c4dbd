// TLS from Pulumi's own connections to the source database (the DDL resource through node-postgres,
// the postgresql provider through lib/pq) as the stack's `databaseSslMode` asks, with the RDS
// certificate authorities for verify-ca / verify-full. See docs/deploy.md, "TLS to the database".
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Environment variable naming a PEM file to use instead of downloading the RDS bundle. */
export const CA_BUNDLE_ENV = "CDC_DATABASE_CA_BUNDLE";

/** AWS's bundle of the RDS root and intermediate CAs for one region. */
export function rdsCaBundleUrl(region: string): string {
  return `https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`;
}

/** The certificates of a PEM bundle; throws naming `source` unless it holds only CA certificates. */
export function parseCaBundle(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${source} holds no PEM certificate`);
  return blocks.map((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (error) {
      throw new Error(`${source}: certificate ${i + 1} does not parse: ${(error as Error).message}`);
    }
    if (!cert.ca)
      throw new Error(`${source}: certificate ${i + 1} (${cert.subject}) is not a CA certificate`);
    return cert;
  });
}

export interface CaBundle {
  pem: string;
  /** A file holding `pem` (lib/pq, and so the postgresql provider, takes a path). */
  file: string;
  /** Where it came from: the env file or the URL, with the content's SHA-256 (logged on each run). */
  origin: string;
}

/**
 * The CAs for verify-ca / verify-full: the PEM file `CDC_DATABASE_CA_BUNDLE` names, else the
 * region's RDS bundle downloaded over HTTPS (Node's CAs vouch for AWS's trust store) and kept in
 * `<tmp>/cdc-pipeline-rds-ca/` for the provider. Not pinned: AWS adds CAs to it.
 */
export async function loadCaBundle(
  region: string,
  env: NodeJS.ProcessEnv = process.env,
  download: (url: string) => Promise<string> = httpsText,
): Promise<CaBundle> {
  const envFile = env[CA_BUNDLE_ENV];
  if (envFile) {
    let pem: string;
    try {
      pem = readFileSync(envFile, "utf8");
    } catch (error) {
      throw new Error(`${CA_BUNDLE_ENV}=${envFile} cannot be read: ${(error as Error).message}`);
    }
    parseCaBundle(pem, `${CA_BUNDLE_ENV}=${envFile}`);
    return { pem, file: envFile, origin: `${envFile} (sha256 ${sha256(pem)})` };
  }
  const url = rdsCaBundleUrl(region);
  let pem: string;
  try {
    pem = await download(url);
  } catch (error) {
    throw new Error(
      `cannot download the RDS CA bundle ${url} (databaseSslMode verify-ca/verify-full needs it): ` +
        `${(error as Error).message}; let this machine reach truststore.pki.rds.amazonaws.com over HTTPS, ` +
        `or download the file elsewhere and set ${CA_BUNDLE_ENV} to its path`,
    );
  }
  parseCaBundle(pem, url);
  const dir = join(tmpdir(), "cdc-pipeline-rds-ca");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${region}-bundle.pem`);
  const partial = `${file}.${process.pid}`;
  writeFileSync(partial, pem, { mode: 0o644 });
  renameSync(partial, file); // atomic: a concurrent run never reads half a file
  return { pem, file, origin: `${url} (sha256 ${sha256(pem)})` };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

async function httpsText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}
