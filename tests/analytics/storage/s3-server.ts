// Starts a real s3rver process on a free port for tests; shared by the storage and CLI tests.
import type { S3Client } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { s3ClientFromEnvironment } from "../../../analytics/src/storage";

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The environment a child process needs to reach the server through the standard AWS variables. */
  readonly env: Record<string, string>;
  /** A client for the test's own setup and assertions, configured from `env` like the job's. */
  client(): S3Client;
  stop(): Promise<void>;
}

/** s3rver's built-in account; it checks request signatures against it. */
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export async function startS3Server(buckets: readonly string[]): Promise<S3TestServer> {
  const directory = mkdtempSync(path.join(tmpdir(), "s3rver-"));
  const bin = require.resolve("s3rver/bin/s3rver.js");
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through its
  // legacy provider: without the flag every paginated listing fails with ERR_OSSL_EVP_UNSUPPORTED.
  const args = ["--openssl-legacy-provider", bin, "-d", directory, "-a", "127.0.0.1", "-p", "0", "--silent"];
  for (const bucket of buckets) args.push("--configure-bucket", bucket);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });

  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on [^:]+:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}: ${output}`)));
    child.once("error", reject);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  };
  return {
    endpoint,
    env,
    client: () => s3ClientFromEnvironment(env),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
