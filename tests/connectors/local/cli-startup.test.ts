/**
 * `cdc-connect-local` against servers that go silent: one that accepts TCP and never answers fails the
 * start-up within the connect timeout, one that logs the client in and then answers no query fails it
 * within `database.query.timeout.ms`; both name host:port, and a SIGTERM while it waits ends the process
 * at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSinkConnector, buildSourceConnector } from "../../../connectors/config";
import { CONNECT_TIMEOUT_MS } from "../../../connectors/local/connection";
import { exitCode, spawnCli } from "./harness";

/** Time for node + tsx to load the CLI on a busy 2-core machine, on top of the timeout under test. */
const LOAD_ALLOWANCE_MS = 10_000;

describe("cdc-connect-local start-up against a silent server", () => {
  const dir = mkdtempSync(join(tmpdir(), "cdc-cli-startup-"));
  const sockets: Socket[] = [];
  let silent: Server;
  let port = 0;
  let sourceFile = "";
  let sinkFile = "";

  beforeAll(async () => {
    // Accepts every connection and never writes a byte: PostgreSQL's start-up answer never comes.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    port = (silent.address() as { port: number }).port;
    process.env.CDC_STARTUP_TEST_PASSWORD = "unused";
    const source = buildSourceConnector({
      database: {
        hostname: "127.0.0.1",
        port,
        dbname: "app",
        password: "${env:CDC_STARTUP_TEST_PASSWORD}",
        sslMode: "disable",
      },
    });
    sourceFile = join(dir, "source.json");
    sinkFile = join(dir, "sink.json");
    writeFileSync(sourceFile, JSON.stringify(source));
    writeFileSync(
      sinkFile,
      JSON.stringify(buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" })),
    );
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const waitForConnection = async (count: number): Promise<void> => {
    const deadline = Date.now() + LOAD_ALLOWANCE_MS * 3;
    while (sockets.length < count) {
      if (Date.now() > deadline) throw new Error("the CLI never connected to the silent server");
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it("exits 1 within the connect timeout, naming host:port", async () => {
    const before = sockets.length;
    const child = spawnCli(sourceFile, sinkFile, join(dir, "bucket"));
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = exitCode(child);
    await waitForConnection(before + 1);
    const connectedAt = Date.now();
    expect(await exited).toBe(1);
    const waited = Date.now() - connectedAt;
    expect(waited).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 1000);
    expect(waited).toBeLessThan(CONNECT_TIMEOUT_MS + LOAD_ALLOWANCE_MS);
    expect(stderr.split("\n").filter((l) => l.startsWith("cdc-connect-local:"))).toEqual([
      `cdc-connect-local: cannot connect to PostgreSQL at 127.0.0.1:${port} (connect timeout 10 s): timeout expired`,
    ]);
  });

  it("a SIGTERM during start-up ends the process within seconds, exit 0", async () => {
    const before = sockets.length;
    const child = spawnCli(sourceFile, sinkFile, join(dir, "bucket"));
    const exited = exitCode(child);
    await waitForConnection(before + 1);
    const signalledAt = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
  });
});

/** A PostgreSQL protocol message: type byte, then its length (itself included) and body. */
const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

/**
 * Answers the start-up message as a trusting server does (AuthenticationOk, ReadyForQuery idle), then
 * never answers again: what a server stuck after login (or a proxy in front of a dead one) looks like.
 */
function handshakeOnlyServer(sockets: Socket[]): Server {
  return createServer((socket) => {
    sockets.push(socket);
    socket.once("data", () => {
      socket.write(Buffer.concat([message("R", Buffer.from([0, 0, 0, 0])), message("Z", Buffer.from("I"))]));
    });
  });
}

describe("cdc-connect-local against a server that logs in and then answers no query", () => {
  const QUERY_TIMEOUT_MS = 2000;
  const dir = mkdtempSync(join(tmpdir(), "cdc-cli-query-timeout-"));
  const sockets: Socket[] = [];
  const server = handshakeOnlyServer(sockets);
  let port = 0;
  let sourceFile = "";
  let sinkFile = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    process.env.CDC_STARTUP_TEST_PASSWORD = "unused";
    const source = buildSourceConnector({
      database: {
        hostname: "127.0.0.1",
        port,
        dbname: "app",
        password: "${env:CDC_STARTUP_TEST_PASSWORD}",
        sslMode: "disable",
      },
    });
    sourceFile = join(dir, "source.json");
    sinkFile = join(dir, "sink.json");
    const config = { ...source.config, "database.query.timeout.ms": String(QUERY_TIMEOUT_MS) };
    writeFileSync(sourceFile, JSON.stringify({ ...source, config }));
    writeFileSync(
      sinkFile,
      JSON.stringify(buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" })),
    );
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("exits 1 within database.query.timeout.ms of logging in, naming host:port and the key", async () => {
    const child = spawnCli(sourceFile, sinkFile, join(dir, "bucket"));
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = exitCode(child);
    const deadline = Date.now() + LOAD_ALLOWANCE_MS * 3;
    while (sockets.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sockets.length).toBe(1);
    const connectedAt = Date.now();
    expect(await exited).toBe(1);
    const waited = Date.now() - connectedAt;
    expect(waited).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 500);
    expect(waited).toBeLessThan(QUERY_TIMEOUT_MS + LOAD_ALLOWANCE_MS);
    expect(stderr.split("\n").filter((l) => l.startsWith("cdc-connect-local:"))).toEqual([
      `cdc-connect-local: PostgreSQL at 127.0.0.1:${port} did not answer a query within 2 s ` +
        "(database.query.timeout.ms = 2000): Query read timeout",
    ]);
  });
});
