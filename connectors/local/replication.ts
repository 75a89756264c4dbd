/**
 * The replication connection, read directly: pg logs in, then the socket is read here and the
 * protocol's frames are walked in place. pg's parser made a Buffer and an event per message, and
 * pg-logical-replication an LSN string and another event: together a fifth of the runtime's time.
 */
import type { Socket } from "node:net";
import pg from "pg";

const COPY_DATA = 0x64; // 'd'
const COPY_BOTH_RESPONSE = 0x57; // 'W'
const ERROR_RESPONSE = 0x45; // 'E'
const XLOG_DATA = 0x77; // 'w': 8 start LSN, 8 end LSN, 8 clock, then the pgoutput message
const KEEPALIVE = 0x6b; // 'k': 8 WAL end, 8 clock, 1 reply requested

/** Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01, in milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

export interface ReplicationHandlers {
  /** An XLogData message starting at WAL position `lsnHigh`/`lsnLow`; its payload is `data[start, end)`. */
  xlog(lsnHigh: number, lsnLow: number, data: Buffer, start: number, end: number): void;
  keepalive(replyRequested: boolean): void;
  /** The connection failed or closed after the stream started (not by stop()). */
  error(err: Error): void;
}

/** The `M` (message) field of an ErrorResponse body, as pg reports it. */
export function errorMessage(body: Buffer): string {
  for (let at = 0; at < body.length && body[at] !== 0;) {
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    if (body[at] === 0x4d) return body.toString("utf8", at + 1, end);
    at = end + 1;
  }
  return "unknown error";
}

/** A standby status update: everything up to and including `lsn` written, flushed and applied. */
export function standbyStatus(lsn: bigint, nowMs: number): Buffer {
  const message = Buffer.alloc(39);
  message[0] = COPY_DATA;
  message.writeInt32BE(38, 1);
  message[5] = 0x72; // 'r'
  // The positions are "last byte + 1", as pg-logical-replication sent them (slot-check.ts relies on it).
  const next = lsn + 1n;
  message.writeBigUInt64BE(next, 6);
  message.writeBigUInt64BE(next, 14);
  message.writeBigUInt64BE(next, 22);
  message.writeBigInt64BE(BigInt(nowMs - PG_EPOCH_MS) * 1000n, 30);
  return message;
}

export class ReplicationConnection {
  private readonly client: pg.Client;
  private socket: Socket | undefined;
  private started = false;
  private stopping = false;
  /** Bytes of an incomplete frame, and how many the frame needs (at least its 5-byte header). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 5;
  private onStart: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(
    config: pg.ClientConfig,
    private readonly handlers: ReplicationHandlers,
  ) {
    this.client = new pg.Client({ ...config, replication: "database" } as pg.ClientConfig);
  }

  /** Logs in and sends `command` (START_REPLICATION); resolves once the server starts streaming. */
  async start(command: string): Promise<void> {
    this.client.on("error", (err: Error) => this.lost(err));
    await this.client.connect();
    if (this.stopping) throw new Error("stopped while connecting");
    // Logged in and idle: from here on the socket is read here, pg's parser no longer sees it.
    const socket = (this.client as unknown as { connection: { stream: Socket } }).connection.stream;
    this.socket = socket;
    socket.removeAllListeners("data");
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.once("close", () => this.lost(new Error("the replication connection closed")));
    const started = new Promise<void>((resolve, reject) => (this.onStart = { resolve, reject }));
    const body = Buffer.from(`${command}\0`);
    const query = Buffer.alloc(5 + body.length);
    query.write("Q", 0);
    query.writeInt32BE(body.length + 4, 1);
    body.copy(query, 5);
    socket.write(query);
    await started;
  }

  /** Confirms everything up to `lsn`; a no-op before the stream started or once it is stopping. */
  acknowledge(lsn: bigint): void {
    if (!this.started || this.stopping) return;
    this.socket?.write(standbyStatus(lsn, Date.now()));
  }

  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Read on (and drop) so the server's close is seen even if the stream was paused.
    this.socket?.resume();
    await this.client.end().catch(() => undefined);
  }

  private lost(err: Error): void {
    if (this.stopping) return;
    if (this.onStart && !this.started) this.onStart.reject(err);
    else if (this.started) this.handlers.error(err);
  }

  private onData(chunk: Buffer): void {
    if (this.stopping) return;
    let data = chunk;
    if (this.pendingBytes > 0) {
      // A frame spans chunks: gather until it is whole, then join once (a large row arrives in many).
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return;
      data = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let at = 0;
    while (data.length - at >= 5) {
      const end = at + 1 + data.readInt32BE(at + 1);
      if (end > data.length) break;
      this.frame(data, at, end);
      if (this.stopping) return;
      at = end;
    }
    if (at < data.length) {
      const rest = data.subarray(at);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      this.needed = rest.length >= 5 ? 1 + rest.readInt32BE(1) : 5;
    }
  }

  private frame(data: Buffer, at: number, end: number): void {
    const type = data[at];
    const body = at + 5;
    if (type === COPY_DATA) {
      const kind = data[body];
      if (kind === XLOG_DATA) {
        this.handlers.xlog(data.readUInt32BE(body + 1), data.readUInt32BE(body + 5), data, body + 25, end);
      } else if (kind === KEEPALIVE) {
        this.handlers.keepalive(data[body + 17] === 1);
      }
    } else if (type === COPY_BOTH_RESPONSE) {
      this.started = true;
      this.onStart?.resolve();
    } else if (type === ERROR_RESPONSE) {
      const err = new Error(errorMessage(data.subarray(body, end)));
      if (this.started) this.handlers.error(err);
      else this.onStart?.reject(err);
    }
  }
}
