/**
 * The replication stream's start is bounded: a server that logs the replication connection in but
 * never answers START_REPLICATION fails the runtime's start-up within the stream start timeout,
 * naming host:port (a proxy in front of the embedded PostgreSQL swallows that one answer).
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STREAM_START_TIMEOUT_MS } from "../../../connectors/local/stream";
import { captureSetup, startOutcome, useHarness } from "./harness";

/** Forwards to `target`; once a client sends START_REPLICATION, the server's answers to it are dropped. */
function startReplicationBlackhole(
  target: number,
): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(target, "127.0.0.1");
    sockets.push(client, upstream);
    let muted = false;
    client.on("data", (chunk: Buffer) => {
      if (chunk.includes("START_REPLICATION")) muted = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!muted) client.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ port: (server.address() as { port: number }).port, server, sockets }),
    ),
  );
}

describe("the replication stream's start", () => {
  const h = useHarness();
  let proxy: Awaited<ReturnType<typeof startReplicationBlackhole>>;
  beforeAll(async () => {
    proxy = await startReplicationBlackhole(h.pg.port);
  });
  afterAll(async () => {
    for (const socket of proxy.sockets) socket.destroy();
    await new Promise((resolve) => proxy.server.close(resolve));
  });

  it("fails the start-up within the stream start timeout, naming host:port", async () => {
    await h.db.query("CREATE TABLE public.unanswered (id int PRIMARY KEY)");
    const setup = await captureSetup(h, ["public.unanswered"], {
      source: { "database.port": String(proxy.port), "snapshot.mode": "no_data" },
    });
    const startedAt = Date.now();
    const outcome = await startOutcome(setup);
    const waited = Date.now() - startedAt;
    expect(outcome).toBe(
      `the replication stream from PostgreSQL at 127.0.0.1:${proxy.port} did not start within ${STREAM_START_TIMEOUT_MS / 1000} s`,
    );
    expect(waited).toBeGreaterThanOrEqual(STREAM_START_TIMEOUT_MS);
    expect(waited).toBeLessThan(STREAM_START_TIMEOUT_MS + 10_000);
  });
});
