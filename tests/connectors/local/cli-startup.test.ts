/**
 * `cdc-connect-local` against servers that go silent: one that accepts TCP and never answers fails the
 * start-up within the connect timeout, one that logs the client in and then answers no query fails it
 * `database.query.timeout.ms` plus the grace for the server's cancel later; both name host:port, and a SIGTERM while it waits ends the process
 * at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSinkConnector, buildSourceConnector } from "../../../connectors/config";
import { CONNECT_TIMEOUT_MS, QUERY_CANCEL_GRACE_MS } from "../../../connectors/local/connection";
import { exitCode, spawnCli } from "./harness";

/** Time for node + tsx to load the CLI on a busy 2-core machine, on top of the timeout under test. */
const LOAD_ALLOWANCE_MS = 10_000;
const QUERY_TIMEOUT_MS = 2000;

/** A PostgreSQL protocol message: type byte, then its length (itself included) and body. */
const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

/** Accepts every connection and never writes a byte: PostgreSQL's start-up answer never comes. */
const silent = (_socket: Socket): void => undefined;

/**
 * Answers the start-up message as a trusting server does (AuthenticationOk, ReadyForQuery idle), then
 * never answers again: what a server stuck after login (or a proxy in front of a dead one) looks like.
 */
const handshakeOnly = (socket: Socket): void => {
  socket.once("data", () => {
    socket.write(Buffer.concat([message("R", Buffer.from([0, 0, 0, 0])), message("Z", Buffer.from("I"))]));
  });
};

/**
 * A server answering as `behave` says on a free port, and the connector files pointing the CLI at it,
 * for the enclosing `describe`.
 */
function useServer(behave: (socket: Socket) => void, sourceOverrides: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cdc-cli-startup-"));
  const fixture = {
    port: 0,
    sockets: [] as Socket[],
    sourceFile: join(dir, "source.json"),
    sinkFile: join(dir, "sink.json"),
    bucket: join(dir, "bucket"),
  };
  const server: Server = createServer((socket) => {
    fixture.sockets.push(socket);
    behave(socket);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fixture.port = (server.address() as { port: number }).port;
    process.env.CDC_STARTUP_TEST_PASSWORD = "unused";
    const source = buildSourceConnector({
      database: {
        hostname: "127.0.0.1",
        port: fixture.port,
        dbname: "app",
        password: "${env:CDC_STARTUP_TEST_PASSWORD}",
        sslMode: "disable",
      },
    });
    writeFileSync(
      fixture.sourceFile,
      JSON.stringify({ ...source, config: { ...source.config, ...sourceOverrides } }),
    );
    writeFileSync(
      fixture.sinkFile,
      JSON.stringify(buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" })),
    );
  });
  afterAll(async () => {
    for (const socket of fixture.sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  /** Starts the CLI; resolves once it has connected, with its exit, its stderr so far, and the time. */
  const start = async () => {
    const before = fixture.sockets.length;
    const child = spawnCli(fixture.sourceFile, fixture.sinkFile, fixture.bucket);
    const output = { stderr: "" };
    child.stderr!.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exited = exitCode(child);
    const deadline = Date.now() + LOAD_ALLOWANCE_MS * 3;
    while (fixture.sockets.length === before) {
      if (Date.now() > deadline) throw new Error("the CLI never connected to the server");
      await new Promise((r) => setTimeout(r, 20));
    }
    return { child, exited, output, connectedAt: Date.now() };
  };
  return { fixture, start };
}

/** The CLI's own message lines (its JSON log lines aside). */
const messages = (stderr: string): string[] =>
  stderr.split("\n").filter((l) => l.startsWith("cdc-connect-local:"));

describe("cdc-connect-local start-up against a silent server", () => {
  const { fixture, start } = useServer(silent);

  it("exits 1 within the connect timeout, naming host:port", async () => {
    const run = await start();
    expect(await run.exited).toBe(1);
    const waited = Date.now() - run.connectedAt;
    expect(waited).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 1000);
    expect(waited).toBeLessThan(CONNECT_TIMEOUT_MS + LOAD_ALLOWANCE_MS);
    expect(messages(run.output.stderr)).toEqual([
      `cdc-connect-local: cannot connect to PostgreSQL at 127.0.0.1:${fixture.port} (connect timeout 10 s): timeout expired`,
    ]);
  });

  it("a SIGTERM during start-up ends the process within seconds, exit 0", async () => {
    const run = await start();
    const signalledAt = Date.now();
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
  });
});

describe("cdc-connect-local against a server that logs in and then answers no query", () => {
  const { fixture, start } = useServer(handshakeOnly, {
    "database.query.timeout.ms": String(QUERY_TIMEOUT_MS),
  });

  it("exits 1 once database.query.timeout.ms and the cancel's grace passed, naming host:port and the key", async () => {
    const run = await start();
    expect(await run.exited).toBe(1);
    const waited = Date.now() - run.connectedAt;
    expect(waited).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS + QUERY_CANCEL_GRACE_MS - 500);
    expect(waited).toBeLessThan(QUERY_TIMEOUT_MS + QUERY_CANCEL_GRACE_MS + LOAD_ALLOWANCE_MS);
    expect(messages(run.output.stderr)).toEqual([
      `cdc-connect-local: PostgreSQL at 127.0.0.1:${fixture.port} did not answer a query within 2 s ` +
        "(database.query.timeout.ms = 2000): Query read timeout",
    ]);
  });
});
