// A server that cannot start fails at once with PostgreSQL's reason, and one that is not ready in
// time fails at the deadline, instead of leaving the caller waiting for its own timeout.
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runningPostmasterPid, startEmbeddedPostgres } from "../../local/postgres";

describe("embedded PostgreSQL start-up failures", () => {
  const root = mkdtempSync(join(tmpdir(), "cdc-pg-startup-"));
  chmodSync(root, 0o755);
  const dataDir = join(root, "pg");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("a server that exits during start-up fails within seconds with its log", async () => {
    const started = Date.now();
    const error = (await startEmbeddedPostgres({ dataDir, settings: { shared_buffers: "lots" } }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(error.message).toMatch(
      new RegExp(
        `^embedded PostgreSQL failed to start on port \\d+ with data dir ${dataDir}: the server exited during start-up \\(exit 1\\)\\n`,
      ),
    );
    expect(error.message).toContain('invalid value for parameter "shared_buffers": "lots"');
    expect(existsSync(join(dataDir, "PG_VERSION"))).toBe(true); // initdb ran; the cluster is reusable
  }, 60_000);

  it("a server not ready by the deadline is stopped and fails naming the deadline", async () => {
    const error = (await startEmbeddedPostgres({ dataDir, startTimeoutMs: 1 }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(/with data dir .*: not ready within 0\.001 s\n/);
    // The attempt's server is gone: the next start reuses the directory.
    const server = await startEmbeddedPostgres({ dataDir });
    await server.stop();
  }, 60_000);

  it("a server running but not ready by the deadline is gone, with its processes, when the start fails", async () => {
    // Without its LOG lines the server never says it is ready: it runs, with its child processes,
    // until the deadline stops it.
    const error = (await startEmbeddedPostgres({
      dataDir,
      startTimeoutMs: 3000,
      settings: { log_min_messages: "fatal" },
    }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/with data dir .*: not ready within 3 s\n/);
    expect(runningPostmasterPid(dataDir)).toBeUndefined();
    // No process of that server still holds the cluster: a new server starts on it at once.
    const server = await startEmbeddedPostgres({ dataDir });
    await server.stop();
  }, 60_000);
});
