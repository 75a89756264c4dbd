/**
 * pgoutput (protocol 1) messages decoded in place from the replication stream's buffer
 * (https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html). Values stay
 * PostgreSQL text; a change costs one small object and its strings, no Buffer views or events.
 */

/** Column values by name: text, null, or undefined for an unchanged TOASTed value (or a non-key column). */
export type Tuple = Record<string, string | null | undefined>;

export interface RelationColumn {
  flags: number;
  name: string;
  typeOid: number;
  typeMod: number;
}

export interface RelationMessage {
  tag: "relation";
  relationOid: number;
  schema: string;
  name: string;
  columns: RelationColumn[];
  keyColumns: string[];
}

export interface BeginMessage {
  tag: "begin";
  xid: number;
  /** Commit time, microseconds since 1970. */
  commitUs: number;
}

export interface CommitMessage {
  tag: "commit";
  /** The transaction's end LSN (what acknowledging it confirms), null if the server sent 0/0. */
  endLsn: bigint | null;
}

export interface InsertMessage {
  tag: "insert";
  relation: RelationMessage;
  new: Tuple;
}

export interface UpdateMessage {
  tag: "update";
  relation: RelationMessage;
  /** The old key (REPLICA IDENTITY DEFAULT/INDEX, key changed), or null. */
  key: Tuple | null;
  /** The old row (REPLICA IDENTITY FULL), or null. */
  old: Tuple | null;
  new: Tuple;
}

export interface DeleteMessage {
  tag: "delete";
  relation: RelationMessage;
  key: Tuple | null;
  old: Tuple | null;
}

export type PgoutputMessage =
  | BeginMessage
  | CommitMessage
  | RelationMessage
  | InsertMessage
  | UpdateMessage
  | DeleteMessage
  | { tag: "truncate" | "type" | "origin" | "message" };

/** Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
const PG_EPOCH_US = 946_684_800_000_000n;
const UTF8_BOM = 0xfeff;

/** Buffer's own UTF-8 decoder, which toString() reaches through two checking wrappers (a third of its cost). */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(start: number, end: number): string })
  .utf8Slice;

/** `buf[start, end)` as text; the previous decoder (TextDecoder) dropped a leading BOM, so this does. */
function text(buf: Buffer, start: number, end: number): string {
  const value = utf8Slice.call(buf, start, end);
  return value.charCodeAt(0) === UTF8_BOM ? value.slice(1) : value;
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public at: number,
    readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.end) throw new Error("pgoutput: unexpected end of message");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++]!;
  }

  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }

  cstring(): string {
    const nul = this.buf.indexOf(0, this.at);
    if (nul < 0 || nul >= this.end) throw new Error("pgoutput: unexpected end of message");
    const value = text(this.buf, this.at, nul);
    this.at = nul + 1;
    return value;
  }
}

/** Decodes one connection's messages; Relation messages are remembered for the changes that follow. */
export class PgoutputDecoder {
  private readonly relations = new Map<number, RelationMessage>();
  /** Relations with a column named `__proto__`: their tuples need a null-prototype object. */
  private readonly protoNamed = new Set<RelationMessage>();

  /** The message in `buf[start, end)`. */
  decode(buf: Buffer, start: number, end: number): PgoutputMessage {
    const r = new Reader(buf, start, end);
    const tag = r.u8();
    switch (tag) {
      case 0x42: {
        // B: final LSN, commit time, xid
        r.u64();
        const commitUs = Number(r.u64() + PG_EPOCH_US);
        return { tag: "begin", commitUs, xid: r.i32() };
      }
      case 0x43: {
        // C: flags, commit LSN, end LSN, commit time
        r.u8();
        r.u64();
        const endLsn = r.u64();
        return { tag: "commit", endLsn: endLsn === 0n ? null : endLsn };
      }
      case 0x52:
        return this.relation(r);
      case 0x49: {
        const relation = this.relationOf(r.i32());
        r.u8(); // N
        return { tag: "insert", relation, new: this.tuple(r, relation, null) };
      }
      case 0x55:
        return this.update(r, this.relationOf(r.i32()));
      case 0x44: {
        const relation = this.relationOf(r.i32());
        const kind = r.u8();
        if (kind === 0x4b) return { tag: "delete", relation, key: this.keyTuple(r, relation), old: null };
        if (kind === 0x4f) return { tag: "delete", relation, key: null, old: this.tuple(r, relation, null) };
        throw new Error(`pgoutput: unknown delete submessage ${String.fromCharCode(kind)}`);
      }
      case 0x54:
        return { tag: "truncate" };
      case 0x59:
        return { tag: "type" };
      case 0x4f:
        return { tag: "origin" };
      case 0x4d:
        return { tag: "message" };
      default:
        throw new Error(`pgoutput: unknown message ${String.fromCharCode(tag)}`);
    }
  }

  private relationOf(oid: number): RelationMessage {
    const relation = this.relations.get(oid);
    if (!relation) throw new Error(`pgoutput: change of relation ${oid} before its Relation message`);
    return relation;
  }

  private relation(r: Reader): RelationMessage {
    const relationOid = r.i32();
    const schema = r.cstring();
    const name = r.cstring();
    r.u8(); // replica identity setting
    const count = r.i16();
    const columns: RelationColumn[] = [];
    for (let i = 0; i < count; i += 1) {
      const flags = r.u8();
      columns.push({ flags, name: r.cstring(), typeOid: r.i32() >>> 0, typeMod: r.i32() });
    }
    const keyColumns = columns.filter((c) => c.flags & 1).map((c) => c.name);
    const message: RelationMessage = { tag: "relation", relationOid, schema, name, columns, keyColumns };
    this.relations.set(relationOid, message);
    if (columns.some((c) => c.name === "__proto__")) this.protoNamed.add(message);
    return message;
  }

  private update(r: Reader, relation: RelationMessage): UpdateMessage {
    const kind = r.u8();
    if (kind === 0x4e)
      return { tag: "update", relation, key: null, old: null, new: this.tuple(r, relation, null) };
    if (kind === 0x4b) {
      const key = this.keyTuple(r, relation);
      r.u8(); // N
      return { tag: "update", relation, key, old: null, new: this.tuple(r, relation, null) };
    }
    if (kind === 0x4f) {
      const old = this.tuple(r, relation, null);
      r.u8(); // N
      return { tag: "update", relation, key: null, old, new: this.tuple(r, relation, old) };
    }
    throw new Error(`pgoutput: unknown update submessage ${String.fromCharCode(kind)}`);
  }

  /**
   * A TupleData. An unchanged TOASTed value ('u') is the old row's value when the old row was sent
   * (REPLICA IDENTITY FULL), else undefined.
   */
  private tuple(r: Reader, relation: RelationMessage, old: Tuple | null): Tuple {
    const count = r.i16();
    // A plain object is faster to fill and read; a null-prototype one where a name is Object.prototype's setter.
    const tuple: Tuple = this.protoNamed.has(relation) ? (Object.create(null) as Tuple) : {};
    const { buf, end } = r;
    for (let i = 0; i < count; i += 1) {
      const name = relation.columns[i]!.name;
      const kind = r.u8();
      if (kind === 0x74) {
        const size = r.i32();
        if (r.at + size > end) throw new Error("pgoutput: unexpected end of message");
        tuple[name] = text(buf, r.at, r.at + size);
        r.at += size;
      } else if (kind === 0x6e) tuple[name] = null;
      else if (kind === 0x75) tuple[name] = old === null ? undefined : old[name];
      else throw new Error(`pgoutput: unknown column value kind ${String.fromCharCode(kind)}`);
    }
    return tuple;
  }

  /** A key tuple: the key columns only (the others are sent as nulls and are not values). */
  private keyTuple(r: Reader, relation: RelationMessage): Tuple {
    const tuple = this.tuple(r, relation, null);
    const key: Tuple = Object.create(null) as Tuple;
    for (const k of relation.keyColumns) key[k] = tuple[k] === null ? undefined : tuple[k];
    return key;
  }
}
