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
 * Kafka's `ConfigTransformer.DEFAULT_PATTERN`, verbatim: `\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}`. Its groups
 * are lazy, so the provider ends at the first colon, the path (optional) at the second one, and the key is
 * everything after it: `${secretsmanager:arn:aws:...:secret:db:password}` reads as path `arn` and key
 * `aws:...:secret:db:password`. A path cannot hold a colon; reference a secret by its name, not its ARN.
 */
export const KAFKA_VARIABLE_PATTERN = "\\$\\{([^}]*?):(([^}]*?):)?([^}]*?)\\}";

const WHOLE_PLACEHOLDER = new RegExp(`^${KAFKA_VARIABLE_PATTERN}$`);

/** Provider names this repository declares or resolves (`secretsmanager`, `env`, `file`). */
const PROVIDER_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

export interface ConfigPlaceholder {
  provider: string;
  /** Undefined for `${provider:key}` (Kafka passes an empty path). */
  path: string | undefined;
  key: string;
}

/**
 * Splits a value that is exactly one config-provider placeholder the way Kafka Connect does (see
 * KAFKA_VARIABLE_PATTERN), or returns undefined if `value` is not one.
 */
export function parseConfigPlaceholder(value: string): ConfigPlaceholder | undefined {
  const match = WHOLE_PLACEHOLDER.exec(value);
  if (!match) return undefined;
  return { provider: match[1]!, path: match[3], key: match[4]! };
}

/**
 * Why Kafka would read this placeholder differently from what it seems to say, or undefined when its split
 * is sound: a key holding a colon means a path with a colon (an ARN) that Kafka cut at its first colon.
 */
export function placeholderSplitProblem(parts: ConfigPlaceholder): string | undefined {
  if (!parts.key.includes(":")) return undefined;
  return (
    `Kafka splits \${provider:path:key} at its first two colons, so this reads as provider ` +
    `"${parts.provider}", path "${parts.path ?? ""}", key "${parts.key}"; a path cannot hold a colon: ` +
    "reference the secret by its name, not its ARN (e.g. ${secretsmanager:<secret name>:password})"
  );
}

/**
 * A Kafka Connect config-provider placeholder: `${provider:path:key}` (e.g.
 * `${secretsmanager:cdc-pipeline/dev/cdc_connector-AbCdEf:password}`, `${file:/run/db.properties:password}`)
 * or `${provider:key}` (e.g. `${env:CDC_DB_PASSWORD}`), split as Kafka splits it. Neither the path nor
 * the key may hold a colon, so a Secrets Manager secret is referenced by its name, never its ARN.
 */
export const secretPlaceholder = z.string().superRefine((value, ctx) => {
  const parts = parseConfigPlaceholder(value);
  if (!parts || !PROVIDER_NAME.test(parts.provider) || parts.key === "" || parts.path === "") {
    ctx.addIssue({
      code: "custom",
      message:
        "must be a config-provider placeholder ${provider:path:key} or ${provider:key} " +
        "(e.g. ${secretsmanager:<secret name>:password}, ${env:CDC_DB_PASSWORD}), never a plaintext secret",
    });
    return;
  }
  const problem = placeholderSplitProblem(parts);
  if (problem)
    ctx.addIssue({ code: "custom", message: `is a placeholder Kafka Connect would misread: ${problem}` });
});
