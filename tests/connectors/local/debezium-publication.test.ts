/**
 * A `publication.name` that does not exist, with `publication.autocreate.mode=disabled`: real Debezium 3.6.1
 * creates none and its task fails when streaming starts (after the snapshot, the slot existing), asking for
 * the publication; `cdc-connect-local` fails at start-up, before it reads or writes anything: exit 1, the
 * publication and the database named, no file in the bucket root (no offsets, no topic files), the slot not
 * moved; a restart from stored offsets once the publication was dropped is refused alike, the bucket
 * untouched. Without streaming (`snapshot.mode=initial_only`) neither needs the publication (Debezium then
 * opens no replication connection).
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProgress } from "../../../engines/progress";
import { ensureKafkaEngines } from "../../../engines/provision";
import { createConnector, startKafkaConnect, type KafkaConnect } from "./debezium-connect";
import type { UnwrappedRecord } from "../../../connectors/local";
import {
  captureSetup,
  exitCode,
  runtimeFor,
  spawnCli,
  startOutcome,
  useHarness,
  waitFor,
  writeConfigFiles,
} from "./harness";

const TABLE = "public.unpublished";
const MISSING = "no_such_publication";
const missing = { source: { "publication.name": MISSING } };

interface TaskStatus {
  state: string;
  trace?: string;
}

describe("a publication that does not exist: Debezium's task fails, the runtime refuses to start", () => {
  const h = useHarness();
  let kafka: KafkaConnect | undefined;
  let task: TaskStatus = { state: "none" };
  let cli = { code: null as number | null, stderr: "", files: [] as string[], slotMoved: true };

  beforeAll(async () => {
    const engines = await ensureKafkaEngines(createProgress("debezium-publication-test"));
    await h.db.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, n int NOT NULL)`);
    await h.db.query(`INSERT INTO ${TABLE} SELECT i, i FROM generate_series(1, 3) i`);

    // The runtime first (no Kafka needed): the CLI as an operator runs it.
    const setup = await captureSetup(h, [TABLE], missing);
    const slotAt = async () =>
      (
        await h.db.query<{ lsn: string }>(
          "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
          [setup.slot],
        )
      ).rows[0]!.lsn;
    const before = await slotAt();
    const { sourceFile, sinkFile } = writeConfigFiles(h, setup);
    const child = spawnCli(sourceFile, sinkFile, setup.bucketRoot);
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // A runtime that does not refuse streams on (nothing fails until a change arrives): stopped after 60 s.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await exitCode(child);
    clearTimeout(timer);
    cli = {
      code,
      stderr,
      files: readdirSync(setup.bucketRoot, { recursive: true }) as string[],
      slotMoved: (await slotAt()) !== before,
    };

    kafka = await startKafkaConnect(engines, join(h.root, "kafka"));
    const { source } = await captureSetup(h, [TABLE], missing);
    const url = `${kafka.worker.url}/connectors/${source.name}`;
    await createConnector(kafka.worker.url, source.name!, source);
    const deadline = Date.now() + 180_000;
    while (task.state !== "FAILED" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const status = (await (await fetch(`${url}/status`)).json()) as { tasks: TaskStatus[] };
      task = status.tasks[0] ?? task;
    }
  }, 600_000);

  afterAll(async () => {
    await kafka?.stop();
  }, 120_000);

  it("Debezium 3.6.1: the task fails when streaming starts (after the snapshot), asking for the publication", () => {
    expect(task.state).toBe("FAILED");
    expect(task.trace).toContain(
      "Caused by: org.apache.kafka.connect.errors.ConnectException: Publication autocreation is disabled, " +
        "please create one and restart the connector.\n" +
        "\tat io.debezium.connector.postgresql.connection.PostgresReplicationConnection.initPublication(",
    );
    // initPublication runs from startStreaming, once the snapshot is done (with a slot that exists).
    expect(task.trace).toContain("PostgresReplicationConnection.startStreaming(");
  });

  it("cdc-connect-local: exit 1 naming the publication and the database; no file written, the slot not moved", () => {
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(
      `cdc-connect-local: publication "${MISSING}" (publication.name) does not exist in database "postgres": ` +
        "publication.autocreate.mode=disabled creates none, so create it for the captured tables",
    );
    expect(cli.files).toEqual([]);
    expect(cli.slotMoved).toBe(false);
  });

  it("a restart after the publication was dropped: refused before the slot is read, the bucket untouched", async () => {
    const setup = await captureSetup(h, [TABLE]);
    const seen: UnwrappedRecord[] = [];
    const runtime = await runtimeFor(setup, { onRecord: (r) => seen.push(r) });
    await h.db.query(`UPDATE ${TABLE} SET n = n + 1 WHERE id = 1`);
    await waitFor(() => seen.length === 4);
    await runtime.stop();
    const bucket = () =>
      (readdirSync(setup.bucketRoot, { recursive: true }) as string[])
        .sort()
        .map((f) => [f, statSync(join(setup.bucketRoot, f)).mtimeMs]);
    const before = bucket();
    const publication = setup.source["publication.name"];
    await h.db.query(`DROP PUBLICATION ${publication}`);
    expect(await startOutcome(setup)).toContain(
      `publication "${publication}" (publication.name) does not exist in database "postgres"`,
    );
    expect(before.map(([f]) => f)).toContain(join(".connect-offsets", `source-${setup.source.name}.json`));
    expect(bucket()).toEqual(before);
  });

  it("snapshot.mode=initial_only reads no slot and needs no publication", async () => {
    const setup = await captureSetup(h, [TABLE], {
      source: { "publication.name": MISSING, "snapshot.mode": "initial_only" },
    });
    expect(await startOutcome(setup)).toBe("started");
  });
});
