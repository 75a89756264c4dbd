/**
 * The capture ceiling of the machine: PostgreSQL's walsender decoding a slot with `pgoutput` (protocol 1)
 * for a consumer that does nothing with what it reads, as `pg_recvlogical -f /dev/null` does. It reads
 * each CopyData message's first bytes only (message kind, and a commit's end LSN to know where to stop):
 * no tuple is parsed, so the walsender's decoding is what it measures.
 */
import pg from "pg";

/** The CopyData message kinds of the streaming replication protocol, and pgoutput's message tags. */
const XLOG_DATA = 0x77; // 'w': 1 + 8 start + 8 end + 8 clock, then the pgoutput message
const KEEPALIVE = 0x6b; // 'k': 1 + 8 wal end + 8 clock + 1 reply requested
const PAYLOAD = 25;
const CHANGE_TAGS = new Set([0x49, 0x55, 0x44]); // 'I', 'U', 'D'
const COMMIT = 0x43; // 'C': 1 tag + 1 flags + 8 commit LSN + 8 end LSN + 8 time

/** Microseconds from 2000-01-01 (PostgreSQL's epoch) to now. */
const pgClock = (): bigint => BigInt(Date.now() - 946_684_800_000) * 1000n;

/** A standby status update: everything up to `lsn` written, flushed and applied. */
function standbyStatus(lsn: bigint): Buffer {
  const message = Buffer.alloc(34);
  message.write("r", 0);
  message.writeBigUInt64BE(lsn, 1);
  message.writeBigUInt64BE(lsn, 9);
  message.writeBigUInt64BE(lsn, 17);
  message.writeBigUInt64BE(pgClock(), 25);
  return message;
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
  // pg keeps the protocol connection on the client; the replication stream is read from it directly.
  const connection = (
    client as unknown as {
      connection: {
        on(event: "copyData", listener: (message: { chunk: Buffer }) => void): void;
        sendCopyFromChunk(chunk: Buffer): void;
      };
    }
  ).connection;
  let changes = 0;
  let received = 0n;
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      connection.on("copyData", ({ chunk }) => {
        if (chunk[0] === KEEPALIVE) {
          if (chunk[17] === 1) connection.sendCopyFromChunk(standbyStatus(received));
          return;
        }
        if (chunk[0] !== XLOG_DATA) return;
        const tag = chunk[PAYLOAD];
        if (CHANGE_TAGS.has(tag!)) changes += 1;
        else if (tag === COMMIT) {
          received = chunk.readBigUInt64BE(PAYLOAD + 10);
          if (changes >= expected) resolve();
        }
      });
      client
        .query(
          `START_REPLICATION SLOT "${slot}" LOGICAL 0/0 (proto_version '1', publication_names '${publication}')`,
        )
        .catch(reject);
    });
    return { changes, seconds: (performance.now() - started) / 1000 };
  } finally {
    // The stream never ends by itself: closing the socket ends it (the walsender exits).
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
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

async function slotReleased(connectionString: string, slot: string): Promise<void> {
  const db = new pg.Client(connectionString);
  await db.connect();
  try {
    await waitForSlotRelease(db, slot);
  } finally {
    await db.end();
  }
}
