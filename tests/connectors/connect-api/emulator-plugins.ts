// The connector plugins the Connect emulator knows, and how Kafka Connect 4.3.1 validates a config for them
// (`PUT /connector-plugins/{class}/config/validate`, and `PUT /connectors/{name}/config` before it applies
// one), as emulator-vs-connect.test.ts observes on a real worker: Connect's own keys with Kafka's ConfigDef
// messages, then the plugin's keys with Kafka's messages or Debezium's.

export interface PluginSpec {
  type: "source" | "sink";
  /** What `GET /connector-plugins`, statuses and Connect's plugin list report. Default "1.0.0". */
  version?: string;
  /** What Connect adds to each task config as `task.class`. Default: the class with `Connector` → `Task`. */
  taskClass?: string;
  /** Most tasks the connector generates, whatever `tasks.max` says (Debezium's Postgres source: 1). */
  maxTasks?: number;
  /** Keys the plugin requires; a missing one is a validation error. */
  required: string[];
  /**
   * Keys with a fixed set of allowed values (Kafka's `ConfigDef.ValidString`, case-sensitive; Debezium's
   * enums, case-insensitive): another value is an error that quotes the value (Kafka hides only
   * PASSWORD-typed values, so a connector-defined string key shows what it got).
   */
  oneOf?: Record<string, string[]>;
  /** Keys whose value must match a pattern, with what the validator says is wrong otherwise. */
  formats?: Record<string, { pattern: RegExp; problem: string }>;
  /**
   * The keys it defines, in its order: validate lists only defined keys (a key no one defines is not
   * listed), and reports errors in that order. Default: `required`, then the `oneOf` keys.
   */
  keys?: string[];
  /**
   * "debezium": its Field validators (empty counts as missing, other messages, values reported as null).
   * Default "kafka" (ConfigDef: an empty required string is "non-empty" error, values reported resolved).
   */
  validator?: "kafka" | "debezium";
  /**
   * Keys validate lists with `value: null` (Debezium 3.6.1: `internal.legacy.snapshot.max.threads`). Connect
   * then fails to build the message of an invalid `PUT …/config`: 500, a NullPointerException's message.
   */
  unvaluedKeys?: string[];
  /** The connector implements `alterOffsets`: Connect then says plainly that its offsets were reset. */
  alterOffsets?: boolean;
}

const POSTGRES_KEYS = [
  "topic.prefix",
  "database.hostname",
  "database.port",
  "database.user",
  "database.password",
  "database.dbname",
  "plugin.name",
  "slot.name",
  "publication.name",
  "publication.autocreate.mode",
  "database.sslmode",
  "decimal.handling.mode",
  "time.precision.mode",
  "snapshot.mode",
  "heartbeat.interval.ms",
  "table.include.list",
  "heartbeat.action.query",
];

export const DEFAULT_PLUGINS: Record<string, PluginSpec> = {
  "io.debezium.connector.postgresql.PostgresConnector": {
    type: "source",
    version: "3.6.1.Final",
    taskClass: "io.debezium.connector.postgresql.PostgresConnectorTask",
    maxTasks: 1,
    validator: "debezium",
    keys: POSTGRES_KEYS,
    required: ["topic.prefix", "database.hostname", "database.user", "database.dbname"],
    oneOf: {
      "plugin.name": ["decoderbufs", "pgoutput"],
      "publication.autocreate.mode": ["no_tables", "filtered", "disabled", "all_tables"],
      "database.sslmode": ["allow", "prefer", "disable", "verify-ca", "require", "verify-full"],
      "decimal.handling.mode": ["string", "double", "precise"],
      "time.precision.mode": [
        "adaptive",
        "adaptive_time_microseconds",
        "isostring",
        "microseconds",
        "nanoseconds",
        "connect",
      ],
      "snapshot.mode": [
        "always",
        "initial_only",
        "configuration_based",
        "when_needed",
        "initial",
        "custom",
        "no_data",
      ],
    },
    unvaluedKeys: ["internal.legacy.snapshot.max.threads"],
    formats: {
      "topic.prefix": {
        pattern: /^[A-Za-z0-9._-]+$/,
        problem:
          "has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)",
      },
    },
  },
  "io.confluent.connect.s3.S3SinkConnector": {
    type: "sink",
    version: "10.5.13",
    required: ["s3.bucket.name"],
  },
  "org.apache.kafka.connect.file.FileStreamSourceConnector": {
    type: "source",
    version: "4.3.1",
    maxTasks: 1,
    keys: ["file", "topic", "batch.size"],
    required: ["topic"],
    alterOffsets: true,
  },
  "org.apache.kafka.connect.file.FileStreamSinkConnector": {
    type: "sink",
    version: "4.3.1",
    keys: ["file"],
    required: [],
    alterOffsets: true,
  },
};

export function pluginVersion(spec: PluginSpec): string {
  return spec.version ?? "1.0.0";
}

export function taskClassOf(connectorClass: string, spec: PluginSpec): string {
  return spec.taskClass ?? connectorClass.replace(/Connector$/, "Task");
}

/** `GET /connector-plugins`: sink connectors, then source connectors, each by class name. */
export function pluginList(plugins: Record<string, PluginSpec>) {
  return (["sink", "source"] as const).flatMap((type) =>
    Object.entries(plugins)
      .filter(([, spec]) => spec.type === type)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, spec]) => ({ class: name, type, version: pluginVersion(spec) })),
  );
}

/** Connect's message for a class no plugin implements: every plugin as its Java `PluginDesc`, by class name. */
export function unknownPluginMessage(connectorClass: string, plugins: Record<string, PluginSpec>): string {
  const available = Object.entries(plugins)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, spec]) => {
      const version = pluginVersion(spec);
      return (
        `PluginDesc{klass=class ${name}, name='${name}', version='${version}', encodedVersion=${version}, ` +
        `type=${spec.type}, typeName='${spec.type}', location='file:/usr/share/java/plugins/'}`
      );
    });
  return (
    `Failed to find any class that implements Connector and which name matches ${connectorClass}, ` +
    `available connectors are: ${available.join(", ")}`
  );
}

/** A config as Java prints a map (`{name=x, topic=t}`), in the order given. */
export function javaMap(config: Record<string, string>): string {
  return `{${Object.entries(config)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ")}}`;
}

/** The keys Connect itself defines for every connector (those the emulator checks), in Connect's order. */
function connectKeys(spec: PluginSpec): string[] {
  const common = ["name", "connector.class", "tasks.max", "errors.tolerance"];
  return spec.type === "sink" ? [...common, "topics", "topics.regex"] : common;
}

function pluginKeys(spec: PluginSpec): string[] {
  return spec.keys ?? [...spec.required, ...Object.keys(spec.oneOf ?? {})];
}

const missing = (value: string | undefined) => value === undefined || value === "";

/** Connect's checks of its own keys. */
function connectErrors(
  spec: PluginSpec,
  config: Record<string, string>,
  add: (key: string, message: string) => void,
) {
  const name = config["name"];
  if (name === undefined) add("name", 'Missing required configuration "name" which has no default value.');
  else if (name === "") add("name", "Invalid value  for configuration name: String may not be empty");
  const tolerance = config["errors.tolerance"];
  if (tolerance !== undefined && !["none", "all"].includes(tolerance))
    add(
      "errors.tolerance",
      `Invalid value ${tolerance} for configuration errors.tolerance: String must be one of: none, all`,
    );
  if (spec.type === "sink" && missing(config["topics"]) && missing(config["topics.regex"])) {
    add("topics", "Must configure one of topics or topics.regex");
    add("topics.regex", "Must configure one of topics or topics.regex");
  }
}

/** The plugin's checks of its keys, with Kafka's ConfigDef messages or Debezium's. */
function pluginErrors(
  spec: PluginSpec,
  config: Record<string, string>,
  add: (key: string, message: string) => void,
) {
  const debezium = spec.validator === "debezium";
  const invalid = (key: string, problem: string) => add(key, `The '${key}' value is invalid: ${problem}`);
  for (const key of spec.required) {
    const value = config[key];
    if (debezium && missing(value)) invalid(key, "A value is required");
    else if (value === undefined)
      add(key, `Missing required configuration "${key}" which has no default value.`);
    else if (value === "") add(key, `Invalid value  for configuration ${key}: String must be non-empty`);
  }
  for (const [key, allowed] of Object.entries(spec.oneOf ?? {})) {
    const value = config[key];
    if (value === undefined) continue;
    if (!debezium && !allowed.includes(value))
      add(
        key,
        `Invalid value ${value} for configuration ${key}: String must be one of: ${allowed.join(", ")}`,
      );
    if (debezium && !allowed.some((v) => v.toLowerCase() === value.toLowerCase()))
      invalid(key, `Value must be one of ${allowed.join(", ")}`);
  }
  for (const [key, { pattern, problem }] of Object.entries(spec.formats ?? {})) {
    const value = config[key];
    if (value !== undefined && !pattern.test(value)) invalid(key, `${value} ${problem}`);
  }
}

/** Every key validate lists, in Connect's order, with its errors (the config's placeholders resolved). */
export function validatedKeys(spec: PluginSpec, config: Record<string, string>) {
  const errors = new Map<string, string[]>();
  const add = (key: string, message: string) => errors.set(key, [...(errors.get(key) ?? []), message]);
  connectErrors(spec, config, add);
  pluginErrors(spec, config, add);
  const own = new Set(connectKeys(spec));
  const debezium = spec.validator === "debezium";
  return [...new Set([...connectKeys(spec), ...pluginKeys(spec)])].map((key) => ({
    key,
    // Debezium reports none of its keys' values; Kafka reports the value as validated.
    value: debezium && !own.has(key) ? null : (config[key] ?? null),
    // Kafka's "required" is "has no default"; Debezium's keys all have one in Kafka's terms.
    required: key === "name" || key === "connector.class" || (!debezium && spec.required.includes(key)),
    recommended: debezium ? (spec.oneOf?.[key] ?? []) : [],
    errors: errors.get(key) ?? [],
  }));
}

/** Body of `PUT /connector-plugins/{class}/config/validate` (200). */
export function validationBody(connectorClass: string, spec: PluginSpec, config: Record<string, string>) {
  const keys = validatedKeys(spec, config);
  return {
    name: connectorClass,
    error_count: keys.reduce((sum, key) => sum + key.errors.length, 0),
    groups: ["Common"],
    configs: [
      ...keys.map(({ key, value, required, recommended, errors }) => ({
        definition: { name: key, required },
        value: { name: key, value, recommended_values: recommended, errors, visible: true },
      })),
      ...(spec.unvaluedKeys ?? []).map((key) => ({
        definition: { name: key, required: false },
        value: null,
      })),
    ],
  };
}
