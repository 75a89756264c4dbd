/**
 * The capture ceiling of the machine, two ways. `pg_recvlogical -f /dev/null` (Debian's
 * postgresql-client) decoding a slot with `pgoutput` (protocol 1), as the targets define it; and a raw
 * consumer that does even less with what it reads: pg logs in, then it takes the socket, reads it in
 * batches and walks the protocol's frames itself, looking only at each message's kind, so what it
 * measures is the walsender alone (pg_recvlogical writes each message out and is about half as fast).
 */
import { spawn, spawnSync } from "node:child_process";
import type { Socket } from "node:net";
import pg from "pg";
import { startReplicationCommand } from "../connectors/local/replication-names";

/** Backend messages: CopyData, CopyBothResponse, ErrorResponse. */
const COPY_DATA = 0x64; // 'd'
const ERROR_RESPONSE = 0x45; // 'E'
/** CopyData payloads of the streaming replication protocol, and pgoutput's message tags. */
const XLOG_DATA = 0x77; // 'w': 1 + 8 start + 8 end + 8 clock, then the pgoutput message
const KEEPALIVE = 0x6b; // 'k': 1 + 8 wal end + 8 clock + 1 reply requested
const PAYLOAD = 25;
const INSERT = 0x49; // 'I'
const UPDATE = 0x55; // 'U'
const DELETE = 0x44; // 'D'
const COMMIT = 0x43; // 'C': 1 tag + 1 flags + 8 commit LSN + 8 end LSN + 8 time

/**
 * How often the socket is read. Measured (1M updates, 2 cores): reading each arrival, 619k reads took
 * 6.2 s of Node's CPU and capped the rate at 113k changes/s; every 5, 10 or 20 ms the rate stays at
 * 215-226k/s with the consumer at a tenth of a core or less, so the walsender is what limits it.
 */
const BATCH_MS = 10;

/** Microseconds from 2000-01-01 (PostgreSQL's epoch) to now. */
const pgClock = (): bigint => BigInt(Date.now() - 946_684_800_000) * 1000n;

/** A frontend message: its type, its length (itself included), its body. */
function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

/** A standby status update (in CopyData): everything up to `lsn` written, flushed and applied. */
function standbyStatus(lsn: bigint): Buffer {
  const message = Buffer.alloc(34);
  message.write("r", 0);
  message.writeBigUInt64BE(lsn, 1);
  message.writeBigUInt64BE(lsn, 9);
  message.writeBigUInt64BE(lsn, 17);
  message.writeBigUInt64BE(pgClock(), 25);
  return frame("d", message);
}

/** The `M` (message) field of an ErrorResponse body. */
function errorText(body: Buffer): string {
  for (let at = 0; at < body.length && body[at] !== 0;) {
    const end = body.indexOf(0, at + 1);
    if (body[at] === 0x4d) return body.toString("utf8", at + 1, end);
    at = end + 1;
  }
  return "unknown error";
}

export interface CeilingResult {
  changes: number;
  seconds: number;
}

/**
 * Streams `slot` from its start until `expected` inserts, updates and deletes and the commit after them
 * have been received. The slot is not advanced, and is free again when this returns.
 */
export async function measureWalsenderCeiling(
  connectionString: string,
  slot: string,
  publication: string,
  expected: number,
): Promise<CeilingResult> {
  const client = new pg.Client({ connectionString, replication: "database" } as pg.ClientConfig);
  await client.connect();
  // Logged in and idle: from here on the socket is read here, pg's parser no longer sees it.
  const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
  socket.removeAllListeners("data");
  let changes = 0;
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      let pending: Buffer = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
        let at = 0;
        while (at + 5 <= data.length) {
          const end = at + 1 + data.readInt32BE(at + 1);
          if (end > data.length) break;
          const type = data[at]!;
          const body = at + 5;
          if (type === COPY_DATA && data[body] === XLOG_DATA) {
            const tag = data[body + PAYLOAD];
            if (tag === INSERT || tag === UPDATE || tag === DELETE) changes += 1;
            else if (tag === COMMIT && changes >= expected) resolve();
          } else if (type === COPY_DATA && data[body] === KEEPALIVE && data[body + 17] === 1) {
            socket.write(standbyStatus(data.readBigUInt64BE(body + 1)));
          } else if (type === ERROR_RESPONSE) {
            reject(new Error(`START_REPLICATION: ${errorText(data.subarray(body, end))}`));
          }
          at = end;
        }
        pending = data.subarray(at);
      });
      // Read in batches, every BATCH_MS: one read per arrival (the walsender writes a message at a time)
      // costs Node more than the walsender spends on the message.
      const drain = setInterval(() => {
        socket.resume();
        setImmediate(() => socket.pause());
      }, BATCH_MS);
      socket.once("close", () => clearInterval(drain));
      // The command the runtime sends, names quoted alike: the same decoding, from the slot's start.
      const command = startReplicationCommand(slot, publication, 0n);
      socket.write(frame("Q", Buffer.from(`${command}\0`)));
    });
    return { changes, seconds: (performance.now() - started) / 1000 };
  } finally {
    // The stream never ends by itself: closing the socket ends it (the walsender exits).
    socket.destroy();
    await client.end().catch(() => undefined);
    await slotReleased(connectionString, slot);
  }
}

/** Returns once no walsender holds `slot` (one exits shortly after its consumer disconnects). */
export async function waitForSlotRelease(db: pg.ClientBase, slot: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const { rows } = await db.query<{ active: boolean }>(
      "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    if (!rows[0]?.active) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`replication slot ${slot} still in use 10 s after its consumer left`);
}

/** Waits until no walsender holds `slot`; returns where the slot is confirmed to then. */
async function slotReleased(connectionString: string, slot: string): Promise<string | undefined> {
  const db = new pg.Client(connectionString);
  await db.connect();
  try {
    await waitForSlotRelease(db, slot);
    const { rows } = await db.query<{ confirmed: string }>(
      "SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    return rows[0]?.confirmed;
  } finally {
    await db.end();
  }
}

/** Why `pg_recvlogical` cannot run here, or undefined when it can. */
export function pgRecvlogicalMissing(): string | undefined {
  const probe = spawnSync("pg_recvlogical", ["--version"], { encoding: "utf8" });
  if (probe.error)
    return `pg_recvlogical not found on PATH (Debian's postgresql-client): ${probe.error.message}`;
  if (probe.status !== 0) return `pg_recvlogical --version exited ${probe.status}: ${probe.stderr.trim()}`;
  return undefined;
}

/**
 * `pg_recvlogical --start --endpos <endLsn> -f /dev/null` on `slot` with pgoutput protocol 1: seconds
 * from its start to its exit. Fails unless it exits 0 with the slot confirmed exactly to `endLsn` (it
 * read everything up to there), and returns once the slot is free again.
 */
export async function measurePgRecvlogical(
  connectionString: string,
  slot: string,
  publication: string,
  endLsn: string,
): Promise<{ seconds: number }> {
  const url = new URL(connectionString);
  const args = [
    ...["-h", url.hostname, "-p", url.port, "-U", decodeURIComponent(url.username)],
    ...["-d", decodeURIComponent(url.pathname.slice(1)), "--slot", slot, "--start", "--no-loop"],
    ...["--endpos", endLsn, "-f", "/dev/null", "-o", "proto_version=1"],
    ...["-o", `publication_names=${publication}`],
  ];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password) };
  const started = performance.now();
  const seconds = await new Promise<number>((resolve, reject) => {
    const child = spawn("pg_recvlogical", args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`pg_recvlogical exited ${code}: ${stderr.trim()}`));
    });
  });
  const confirmed = await slotReleased(connectionString, slot);
  if (confirmed !== endLsn)
    throw new Error(`pg_recvlogical stopped at ${confirmed ?? "no slot"}, not at ${endLsn}`);
  return { seconds };
}
