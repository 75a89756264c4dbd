import { z } from "zod";

/** Settings that failed validation; the message names every field at fault. */
export class ConnectorSettingsError extends Error {
  constructor(
    readonly what: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(`Invalid ${what}:\n${issues.map((i) => `  - ${i.path || "(root)"}: ${i.message}`).join("\n")}`);
    this.name = "ConnectorSettingsError";
  }
}

/** Parses `input` with `schema`, or throws a ConnectorSettingsError that names each bad field. */
export function parseSettings<S extends z.ZodType>(what: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, ""),
    message: issue.message,
  }));
  throw new ConnectorSettingsError(what, issues);
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** An unquoted, lower-case PostgreSQL identifier (what the stack creates; no quoting needed). */
export const identifier = z
  .string()
  .regex(IDENTIFIER, "must be a lower-case PostgreSQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)");

/** `schema.table`, both parts unquoted lower-case identifiers. */
export const qualifiedTable = z
  .string()
  .refine((s) => s.split(".").length === 2 && s.split(".").every((part) => IDENTIFIER.test(part)), {
    error: (issue) =>
      `"${String(issue.input)}" is not a schema.table name of lower-case identifiers (e.g. commerce.products)`,
  });

/** A non-empty list of distinct `schema.table` names. */
export const tableList = z
  .array(qualifiedTable)
  .min(1, "must list at least one table")
  .refine((tables) => new Set(tables).size === tables.length, "must not list a table twice");

/** Kafka topic name characters (also Debezium's rule for `topic.prefix`). */
export const topicName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, "must be 1-249 characters of letters, digits, '.', '_' or '-'");

export const positiveInt = z.number().int("must be an integer").positive("must be positive");

/**
 * A Kafka Connect config-provider placeholder: `${provider:path:key}` (e.g.
 * `${secretsmanager:arn:aws:secretsmanager:...:secret:db:password}`, `${file:/run/db.properties:password}`)
 * or `${provider:key}` (e.g. `${env:CDC_DB_PASSWORD}`). The path may hold colons (ARNs); the provider
 * ends at the first colon and the key starts after the last one.
 */
export const PLACEHOLDER = /^\$\{([A-Za-z][A-Za-z0-9_-]*):(?:([^{}]+):)?([^{}:]+)\}$/;

export interface ConfigPlaceholder {
  provider: string;
  /** Undefined for `${provider:key}`. */
  path: string | undefined;
  key: string;
}

/** Splits a config-provider placeholder into its parts, or returns undefined if `value` is not one. */
export function parseConfigPlaceholder(value: string): ConfigPlaceholder | undefined {
  const match = PLACEHOLDER.exec(value);
  if (!match) return undefined;
  return { provider: match[1]!, path: match[2], key: match[3]! };
}

export const secretPlaceholder = z
  .string()
  .regex(
    PLACEHOLDER,
    "must be a config-provider placeholder ${provider:path:key} or ${provider:key} (e.g. ${env:CDC_DB_PASSWORD}), never a plaintext secret",
  );
