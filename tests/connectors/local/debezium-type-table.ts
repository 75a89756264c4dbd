/**
 * The type table of the workload (debezium-workload.ts): a column of every type the local runtime maps
 * (connectors/local/pg-types.ts, pg-special-types.ts, temporal.ts), NOT NULL columns with constant and
 * generated defaults, NOT NULL columns without one, and the rows' values.
 */

export const TYPE_TABLE = "commerce.type_zoo";

/** The type table: name, DDL type, value A (snapshot row 1, streamed row 3), value B (row 4, row 3 updated). */
const TYPE_COLUMNS: [string, string, string, string][] = [
  ["c_bool", "bool", "true", "false"],
  ["c_int2", "int2", "-32768", "7"],
  ["c_int4", "int4", "2147483647", "-1"],
  ["c_int8", "int8", "9007199254740991", "-42"],
  ["c_oid", "oid", "4294967295", "0"],
  ["c_float4", "float4", "3.14", "-0.5"],
  ["c_float8", "float8", "2.718281828459045", "1e20"],
  ["c_num", "numeric(12,3)", "1234.5", "-0.001"],
  ["c_num_var", "numeric", "40.00", "0.0000001"],
  ["c_num_wide", "numeric(40,2)", "12345678901234567890123456789012345678.9", "-1"],
  ["c_money", "money", "1234.56", "-0.07"],
  ["c_text", "text", `E'h\\u00e9llo "q" \\\\ back\\nline\\ttab\\u0001'`, "''"],
  ["c_varchar", "varchar(20)", "'abc'", "'x'"],
  ["c_char", "char(5)", "'ab'", "'abcde'"],
  ["c_name", "name", "'a_name'", "'b'"],
  ["c_citext", "citext", "'MiXeD'", "'lower'"],
  ["c_inet", "inet", "'192.168.0.1/24'", "'::1'"],
  ["c_cidr", "cidr", "'10.0.0.0/8'", "'2001:db8::/32'"],
  ["c_macaddr", "macaddr", "'08:00:2b:01:02:03'", "'ff:ff:ff:ff:ff:ff'"],
  ["c_uuid", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"],
  ["c_json", "json", `'{"b": 1,  "a": [1, 2]}'`, "'[]'"],
  ["c_jsonb", "jsonb", `'{"b": 1,  "a": [1, 2.50]}'`, "'null'"],
  ["c_xml", "xml", "'<a>1</a>'", "'<b/>'"],
  ["c_enum", "commerce.mood", "'happy'", "'sad'"],
  ["c_date", "date", "'2024-02-29'", "'0044-03-15 BC'"],
  // 24:00:00 is PostgreSQL's end of day: Debezium delivers a whole day (86,400,000,000 µs; 86,400,000 ms).
  ["c_time", "time", "'13:45:00.123456'", "'24:00:00'"],
  ["c_time0", "time(0)", "'13:45:01'", "'23:59:59'"],
  ["c_time3", "time(3)", "'13:45:00.5'", "'24:00:00'"],
  ["c_timetz", "timetz", "'13:45:00.5+02'", "'23:30:00-01:30'"],
  ["c_ts", "timestamp", "'2024-03-01 12:34:56.123456'", "'1969-12-31 23:59:59.999999'"],
  ["c_ts0", "timestamp(0)", "'2024-03-01 12:34:56'", "'1900-01-01 00:00:00'"],
  ["c_ts3", "timestamp(3)", "'2024-03-01 12:34:56.789'", "'1969-12-31 23:59:59.999'"],
  ["c_ts4", "timestamp(4)", "'2024-03-01 12:34:56.1234'", "'2024-03-01 00:00:00'"],
  ["c_tstz", "timestamptz", "'2024-03-01 12:34:56.789+02'", "'2024-03-01 00:00:00+05:30'"],
  ["c_tstz0", "timestamptz(0)", "'2024-03-01 12:34:56+00'", "'1969-12-31 23:59:59+00'"],
  ["c_tstz3", "timestamptz(3)", "'2024-03-01 12:34:56.5+00'", "'2024-03-01 12:34:56.12+00'"],
  ["c_interval", "interval", "'1 year 2 mons 3 days 04:05:06.5'", "'-1 days -02:00:00'"],
  ["c_bytea", "bytea", "'\\x0102ff'", "'\\x'"],
  ["c_bit1", "bit(1)", "B'1'", "B'0'"],
  ["c_bit16", "bit(16)", "B'1000000000000001'", "B'0000000000000101'"],
  ["c_varbit", "varbit", "B'101'", "B'000'"],
  ["c_hstore", "hstore", `'b=>NULL, q=>"say \\"hi\\"", aa=>1'`, "''"],
  ["c_ltree", "ltree", "'Top.Science.Astronomy'", "'Top'"],
  ["c_int4range", "int4range", "'[1,10]'", "'empty'"],
  ["c_int8range", "int8range", "'[1,)'", "'(,5)'"],
  ["c_numrange", "numrange", "'(1.5,2.50]'", "'[0,1)'"],
  ["c_daterange", "daterange", "'[2024-01-01,2024-02-01)'", "'empty'"],
  ["c_tsrange", "tsrange", "'[2024-01-01 10:00,2024-01-01 11:00)'", "'(,2024-01-01 00:00:00.5]'"],
  ["c_tstzrange", "tstzrange", "'[2024-03-01 12:00+02,)'", "'(,2024-03-01 00:00:00.5+00]'"],
  ["c_tsvector", "tsvector", "'a fat cat'", "'b:2A'"],
  ["c_point", "point", "'(1.5,-2.25)'", "point(0, 0.5)"],
  ["c_domain", "commerce.positive_price", "9.9", "0.01"],
  ["c_int_arr", "int[]", "'{1,NULL,3}'", "'{}'"],
  ["c_text_arr", "text[]", `'{"a","b c","say \\"hi\\"",NULL}'`, "'{\"\"}'"],
  ["c_varchar_arr", "varchar(5)[]", "'{ab,cd}'", "'{x}'"],
  ["c_num_arr", "numeric(6,2)[]", "'{1.5,40}'", "'{-0.01}'"],
  ["c_numvar_arr", "numeric[]", "'{1.50,2}'", "'{0.001}'"],
  ["c_uuid_arr", "uuid[]", "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", "'{}'"],
  ["c_date_arr", "date[]", "'{2024-01-01,2024-12-31}'", "'{1970-01-01}'"],
  ["c_ts_arr", "timestamp[]", `'{"2024-01-01 00:00:00.5"}'`, "'{}'"],
  ["c_tstz_arr", "timestamptz[]", `'{"2024-01-01 00:00:00+00"}'`, `'{"2024-06-01 12:00:00.25+02"}'`],
  ["c_enum_arr", "commerce.mood[]", "'{happy,sad}'", "'{sad}'"],
  ["c_jsonb_arr", "jsonb[]", `ARRAY['{"a": 1}'::jsonb]`, "'{}'"],
  ["c_bool_arr", "bool[]", "'{t,f}'", "'{f}'"],
  ["c_float8_arr", "float8[]", "'{1.5,1e20}'", "'{-0.25}'"],
  ["c_bytea_arr", "bytea[]", `'{"\\\\x01ff"}'`, "'{}'"],
];

/**
 * NOT NULL columns the inserts leave to their DDL default (constants, and expressions Debezium replaces with a
 * fixed value per type); a delete under REPLICA IDENTITY DEFAULT fills them from the schema default.
 */
const DEFAULTED_COLUMNS = [
  "n_default int DEFAULT 7",
  "nn_int int NOT NULL DEFAULT 42",
  "nn_int8 int8 NOT NULL DEFAULT -7",
  "nn_float8 float8 NOT NULL DEFAULT 2.5",
  "nn_text text NOT NULL DEFAULT 'none'",
  "nn_quote text NOT NULL DEFAULT 'it''s'",
  "nn_varchar varchar(10) NOT NULL DEFAULT 'v'",
  "nn_num numeric(6,2) NOT NULL DEFAULT 1.5",
  "nn_numvar numeric NOT NULL DEFAULT 2.50",
  "nn_bool bool NOT NULL DEFAULT true",
  "nn_ts timestamp NOT NULL DEFAULT '2024-01-01 00:00:00'",
  "nn_tstz timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'",
  "nn_tstz3 timestamptz(3) NOT NULL DEFAULT now()",
  "nn_date date NOT NULL DEFAULT '2024-01-01'",
  "nn_date_fn date NOT NULL DEFAULT current_date",
  "nn_time_fn time NOT NULL DEFAULT localtime",
  "nn_interval interval NOT NULL DEFAULT '1 day 02:00:00'",
  "nn_interval_fn interval NOT NULL DEFAULT make_interval(days => 1)",
  "nn_uuid uuid NOT NULL DEFAULT gen_random_uuid()",
  "nn_jsonb jsonb NOT NULL DEFAULT '{\"k\": 1}'",
  "nn_enum commerce.mood NOT NULL DEFAULT 'meh'",
  "nn_domain commerce.positive_price NOT NULL DEFAULT 5",
  "nn_bit bit(1) NOT NULL DEFAULT B'1'",
  "nn_bytea bytea NOT NULL DEFAULT '\\x00'",
  "nn_money money NOT NULL DEFAULT 1.25",
  "nn_arr int[] NOT NULL DEFAULT '{}'",
];

/** NOT NULL columns without a default (the inserts set them): a delete under DEFAULT fills in a type fallback. */
const REQUIRED_COLUMNS: [string, string, string][] = [
  ["nr_int", "int", "1"],
  ["nr_text", "text", "'t'"],
  ["nr_num", "numeric(6,2)", "1"],
  ["nr_numvar", "numeric", "1"],
  ["nr_bool", "bool", "true"],
  ["nr_date", "date", "'2024-01-01'"],
  ["nr_time", "time", "'01:00'"],
  ["nr_ts", "timestamp", "'2024-01-01 00:00:00'"],
  ["nr_tstz", "timestamptz", "'2024-05-05 05:05:05.5+00'"],
  ["nr_timetz", "timetz", "'01:00+00'"],
  ["nr_interval", "interval", "'1 hour'"],
  ["nr_uuid", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"],
  ["nr_jsonb", "jsonb", "'{}'"],
  ["nr_bytea", "bytea", "'\\x01'"],
  ["nr_money", "money", "1"],
  ["nr_enum", "commerce.mood", "'sad'"],
  ["nr_arr", "text[]", "'{a}'"],
];

const valueSet = (which: 2 | 3) => Object.fromEntries(TYPE_COLUMNS.map((c) => [c[0], c[which]]));
export const VALUES_A: Record<string, string> = { ...valueSet(2), n_default: "NULL" };
export const VALUES_B: Record<string, string> = { ...valueSet(3), n_default: "3" };
/** What floats and numerics hold beyond numbers (JSON has no literal for them). */
export const VALUES_SPECIAL: Record<string, string> = {
  c_float4: "'NaN'",
  c_float8: "'-Infinity'",
  c_num: "'NaN'",
  c_num_var: "'NaN'",
  c_float8_arr: "'{NaN,Infinity}'",
  c_num_arr: "'{NaN}'",
  c_numvar_arr: "'{NaN,1}'",
};
/** Set by every insert: their DDL defaults are computed (now(), current_date...), so would differ per run. */
const GENERATED_DEFAULT_VALUES: Record<string, string> = {
  nn_tstz3: "'2024-01-01 00:00:00.123+00'",
  nn_date_fn: "'2024-01-02'",
  nn_time_fn: "'12:00:00.5'",
  nn_uuid: "'20000000-0000-0000-0000-000000000001'",
};
const REQUIRED_VALUES = {
  ...Object.fromEntries(REQUIRED_COLUMNS.map(([name, , value]) => [name, value])),
  ...GENERATED_DEFAULT_VALUES,
};

/** An insert of a row: `values` (column → SQL), NULL in the other nullable columns. */
export function typeRow(id: number, values: Record<string, string>): string {
  const row = { ...values, ...REQUIRED_VALUES };
  return `INSERT INTO ${TYPE_TABLE} (id, ${Object.keys(row).join(", ")}) VALUES (${id}, ${Object.values(row).join(", ")})`;
}

/** An update of row `id` to `values`. */
export const typeRowUpdate = (id: number, values: Record<string, string>): string =>
  `UPDATE ${TYPE_TABLE} SET (${Object.keys(values).join(", ")}) = (${Object.values(values).join(", ")}) WHERE id = ${id}`;

/** The enum and domain the table uses, the extensions of its types, and the table. */
export const TYPE_TABLE_DDL = [
  "CREATE EXTENSION IF NOT EXISTS hstore",
  "CREATE EXTENSION IF NOT EXISTS ltree",
  "CREATE EXTENSION IF NOT EXISTS citext",
  "CREATE TYPE commerce.mood AS ENUM ('happy', 'sad', 'meh')",
  "CREATE DOMAIN commerce.positive_price AS numeric(8,2) CHECK (VALUE > 0)",
  `CREATE TABLE ${TYPE_TABLE} (id int PRIMARY KEY,
   ${TYPE_COLUMNS.map(([n, t]) => `${n} ${t}`).join(", ")},
   ${REQUIRED_COLUMNS.map(([n, t]) => `${n} ${t} NOT NULL`).join(", ")}, ${DEFAULTED_COLUMNS.join(", ")})`,
];
