/**
 * Debezium's change events for one table and the ExtractNewRecordState SMT applied to them:
 * the value schema (row columns, `__deleted`, the `add.fields` metadata) and the unwrapped values.
 */
import type { ConnectField, ConnectSchema, ConnectValue } from "./connect-schema";
import { UnconvertibleValue } from "./pg-numeric";
import { columnMapping, type ColumnMapping, type TypeModes } from "./pg-types";
import type { TableInfo } from "./catalog";

export type DeleteHandling =
  "drop" | "tombstone" | "rewrite" | "rewrite-with-tombstone" | "delete-to-tombstone";

export interface UnwrapSettings {
  deleteHandling: DeleteHandling;
  /** `add.fields` entries: `op`, `ts_ms` (envelope) or a `source` field, possibly qualified. */
  addFields: string[];
  prefix: string;
  tombstonesOnDelete: boolean;
  placeholder: string;
}

/** The `source` block of a Debezium PostgreSQL change event. */
export interface SourceInfo {
  version: string;
  connector: string;
  name: string;
  ts_ms: number;
  /** Null on streamed changes: Debezium leaves SnapshotRecord.FALSE out of the struct. */
  snapshot: string | null;
  db: string;
  sequence: string;
  ts_us: number;
  ts_ns: number;
  schema: string;
  table: string;
  txId: number | null;
  lsn: number | null;
  xmin: number | null;
}

const OPTIONAL_STRING: ConnectSchema = { type: "STRING", optional: true };
const OPTIONAL_INT64: ConnectSchema = { type: "INT64", optional: true };
/**
 * Schemas of the source block's fields as the SMT adds them: SchemaUtil.copySchemaBasics (name,
 * version, doc, parameters; no default value) made optional.
 */
const SOURCE_FIELD_SCHEMAS: Record<string, ConnectSchema> = {
  version: OPTIONAL_STRING,
  connector: OPTIONAL_STRING,
  name: OPTIONAL_STRING,
  ts_ms: OPTIONAL_INT64,
  snapshot: {
    type: "STRING",
    optional: true,
    name: "io.debezium.data.Enum",
    version: 1,
    parameters: {
      allowed: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
    },
  },
  db: OPTIONAL_STRING,
  sequence: OPTIONAL_STRING,
  ts_us: OPTIONAL_INT64,
  ts_ns: OPTIONAL_INT64,
  schema: OPTIONAL_STRING,
  table: OPTIONAL_STRING,
  txId: OPTIONAL_INT64,
  lsn: OPTIONAL_INT64,
  xmin: OPTIONAL_INT64,
};
const ENVELOPE_FIELD_SCHEMAS: Record<string, ConnectSchema> = { op: OPTIONAL_STRING, ts_ms: OPTIONAL_INT64 };

interface AddedField {
  fieldName: string;
  read: (op: string, tsMs: number, source: SourceInfo) => ConnectValue;
}

/** Resolves `add.fields` (validated in source-config.ts) into field names and readers. */
function addedFields(settings: UnwrapSettings): { field: ConnectField; added: AddedField }[] {
  return settings.addFields.map((entry) => {
    const qualified = entry.includes(".");
    const [struct, name] = qualified ? (entry.split(".", 2) as [string, string]) : [undefined, entry];
    const fromEnvelope = struct === undefined && name in ENVELOPE_FIELD_SCHEMAS;
    const fieldName = settings.prefix + (qualified ? `${struct}_${name}` : name);
    const schema = fromEnvelope ? ENVELOPE_FIELD_SCHEMAS[name]! : SOURCE_FIELD_SCHEMAS[name]!;
    const read: AddedField["read"] = fromEnvelope
      ? (op, tsMs) => (name === "op" ? op : tsMs)
      : (_op, _ts, source) => source[name as keyof SourceInfo];
    return { field: { name: fieldName, schema }, added: { fieldName, read } };
  });
}

/** A value Debezium fails to convert is null (TableSchemaBuilder catches the failure). */
function convertOrNull(convert: ColumnMapping["convert"], text: string): ConnectValue {
  try {
    return convert(text);
  } catch (err) {
    if (err instanceof UnconvertibleValue) return null;
    throw err;
  }
}

export interface UnwrappedRecord {
  topic: string;
  schema: ConnectSchema;
  /** Null for a tombstone. */
  value: Record<string, ConnectValue> | null;
}

type Tuple = Record<string, string | null | undefined>;

/** One captured table: its columns' converters and the unwrapped value schema. */
export class TableRecordBuilder {
  readonly topic: string;
  readonly valueSchema: ConnectSchema;
  readonly keyColumns: string[];
  private readonly columns: { name: string; mapping: ColumnMapping }[];
  private readonly added: AddedField[];
  private readonly rewrite: boolean;

  constructor(
    readonly info: TableInfo,
    topicPrefix: string,
    modes: TypeModes,
    private readonly settings: UnwrapSettings,
    onSkippedColumn: (column: string, type: string) => void,
  ) {
    this.topic = `${topicPrefix}.${info.schema}.${info.table}`;
    this.keyColumns = info.primaryKey;
    this.columns = [];
    for (const column of info.columns) {
      const mapping = columnMapping(column, modes);
      if (mapping) this.columns.push({ name: column.name, mapping });
      else onSkippedColumn(column.name, column.typeName);
    }
    this.rewrite =
      settings.deleteHandling === "rewrite" || settings.deleteHandling === "rewrite-with-tombstone";
    const extra = addedFields(settings);
    this.added = extra.map((e) => e.added);
    const fields: ConnectField[] = this.columns.map((c) => ({ name: c.name, schema: c.mapping.schema }));
    if (this.rewrite) fields.push({ name: "__deleted", schema: OPTIONAL_STRING });
    fields.push(...extra.map((e) => e.field));
    this.valueSchema = { type: "STRUCT", optional: false, name: `${this.topic}.Value`, fields };
  }

  /**
   * A row from a tuple; `undefined` is an unchanged TOASTed value (or a non-key column of a key
   * tuple). `snapshot`: the row was read by the snapshot (over JDBC in Debezium).
   */
  private row(tuple: Tuple, keyOnly: boolean, snapshot = false): Record<string, ConnectValue> {
    const row: Record<string, ConnectValue> = {};
    for (const { name, mapping } of this.columns) {
      const text = tuple[name];
      if (text === undefined) {
        row[name] = keyOnly
          ? mapping.schema.optional
            ? null
            : mapping.fallback
          : this.placeholder(mapping.schema);
      } else {
        const convert = (snapshot && mapping.convertSnapshot) || mapping.convert;
        row[name] = text === null ? null : convertOrNull(convert, text);
      }
    }
    return row;
  }

  private placeholder(schema: ConnectSchema): ConnectValue {
    const text = this.settings.placeholder;
    if (schema.type === "STRING") return text;
    if (schema.type === "BYTES") return Buffer.from(text);
    if (schema.type === "ARRAY") return [schema.valueSchema?.type === "BYTES" ? Buffer.from(text) : text];
    return null;
  }

  private unwrap(
    op: string,
    row: Record<string, ConnectValue>,
    deleted: boolean,
    tsMs: number,
    source: SourceInfo,
  ): UnwrappedRecord {
    if (this.rewrite) row.__deleted = deleted ? "true" : "false";
    for (const field of this.added) row[field.fieldName] = field.read(op, tsMs, source);
    return { topic: this.topic, schema: this.valueSchema, value: row };
  }

  private tombstone(): UnwrappedRecord {
    return { topic: this.topic, schema: this.valueSchema, value: null };
  }

  /** `r` (snapshot) or `c` (insert). */
  read(op: "r" | "c", after: Tuple, tsMs: number, source: SourceInfo): UnwrappedRecord[] {
    return [this.unwrap(op, this.row(after, false, op === "r"), false, tsMs, source)];
  }

  /** A delete: `before` is the old key tuple (REPLICA IDENTITY DEFAULT) or the old row (FULL). */
  delete(before: Tuple, keyOnly: boolean, tsMs: number, source: SourceInfo): UnwrappedRecord[] {
    const mode = this.settings.deleteHandling;
    if (mode === "drop") return [];
    if (mode === "tombstone" || mode === "delete-to-tombstone") return [this.tombstone()];
    const out = [this.unwrap("d", this.row(before, keyOnly), true, tsMs, source)];
    if (mode === "rewrite-with-tombstone" && this.settings.tombstonesOnDelete) out.push(this.tombstone());
    return out;
  }

  /** An update; a primary-key change becomes a delete of the old key and a create of the new one. */
  update(
    oldKey: Tuple | null,
    oldRow: Tuple | null,
    after: Tuple,
    tsMs: number,
    source: SourceInfo,
  ): UnwrappedRecord[] {
    const previous = oldRow ?? oldKey;
    const keyChanged = previous !== null && this.keyColumns.some((k) => previous[k] !== after[k]);
    if (!keyChanged) return [this.unwrap("u", this.row(after, false), false, tsMs, source)];
    return [...this.delete(previous, oldRow === null, tsMs, source), ...this.read("c", after, tsMs, source)];
  }
}
