/**
 * Stack files (`Pulumi.<stack>.yaml`): rendering one from a template, and reading the settings the
 * delivery commands act on. Pure: the callers read and write the files.
 */
import { dump, load } from "js-yaml";
import { isDeepStrictEqual } from "node:util";
import { settingsSchema } from "../infra/config-schema";

/** Keys Pulumi writes into a stack file to find the stack's secrets: bound to its state, kept as they are. */
const SECRETS_KEYS = ["secretsprovider", "encryptedkey", "encryptionsalt"] as const;
const VARIABLE = /\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

export class StackFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}:\n  ${problems.join("\n  ")}`);
    this.name = "StackFileError";
  }
}

type YamlMap = Record<string, unknown>;

function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parse(text: string, source: string): YamlMap {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (error) {
    throw new StackFileError(source, [`not valid YAML: ${(error as Error).message.split("\n")[0]}`]);
  }
  if (doc === undefined || doc === null) return {};
  if (!isMap(doc)) throw new StackFileError(source, ["must be a YAML mapping with a `config` key"]);
  return doc;
}

/** Replaces `${NAME}` in every string of `value`; problems name the path where a variable is missing. */
function substitute(
  value: unknown,
  path: string,
  vars: Record<string, string | undefined>,
  problems: string[],
): unknown {
  if (typeof value === "string") {
    // A value that is one variable holding a JSON list or map becomes that list or map.
    const whole = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(value);
    const replacement = whole ? vars[whole[1]!]?.trim() : undefined;
    if (replacement && /^[[{]/.test(replacement)) {
      try {
        return JSON.parse(replacement) as unknown;
      } catch {
        problems.push(`${path}: variable ${whole![1]} looks like a JSON list or map but is not valid JSON`);
        return value;
      }
    }
    return value.replace(VARIABLE, (whole, name: string) => {
      if (!VARIABLE_NAME.test(name)) {
        problems.push(`${path}: ${whole} is not a variable (names are upper case: \${REVIEW_VPC_ID})`);
        return whole;
      }
      const replacement = vars[name];
      if (replacement === undefined || replacement === "") {
        problems.push(`${path}: variable ${name} is not set (export it, or pass --var ${name}=<value>)`);
        return whole;
      }
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, vars, problems));
  if (isMap(value)) {
    if ("secure" in value) {
      problems.push(
        `${path}: the stack takes no secret config values (its passwords are generated and kept in Secrets Manager)`,
      );
      return value;
    }
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, `${path}.${k}`, vars, problems)]),
    );
  }
  return value;
}

/**
 * The config of a stack made from a template: every `${NAME}` in a value replaced by `vars[NAME]`.
 * A template holds only `config`, with namespaced keys (`aws:region`, `cdc-pipeline:ephemeral`).
 */
export function renderTemplate(
  text: string,
  source: string,
  vars: Record<string, string | undefined>,
): Record<string, unknown> {
  const doc = parse(text, source);
  const problems: string[] = [];
  for (const key of Object.keys(doc)) {
    if (key !== "config") problems.push(`${key}: a template holds only \`config\``);
  }
  const config = doc.config;
  if (!isMap(config)) {
    problems.push("config: must be a mapping of config keys to values");
    throw new StackFileError(source, problems);
  }
  const rendered: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!/^[a-z0-9-]+:[A-Za-z0-9_.-]+$/.test(key)) {
      problems.push(`config.${key}: keys are namespaced, e.g. aws:region or cdc-pipeline:ephemeral`);
      continue;
    }
    rendered[key] = substitute(value, `config.${key}`, vars, problems);
  }
  if (problems.length > 0) throw new StackFileError(source, problems);
  return rendered;
}

/**
 * The text of `Pulumi.<stack>.yaml` for `config`, keeping the secrets settings of the stack file
 * it replaces (`existing`), so the stack's encrypted state stays readable.
 */
export function stackFileText(config: Record<string, unknown>, template: string, existing?: string): string {
  const previous = existing === undefined ? {} : parse(existing, "existing stack file");
  const kept = Object.fromEntries(SECRETS_KEYS.filter((k) => k in previous).map((k) => [k, previous[k]]));
  const header = `# Made by \`npm run stack:init\` from ${template}: edit the template, not this file.\n`;
  return header + dump({ ...kept, config }, { lineWidth: 120, quotingType: '"' });
}

/** The `config` of a stack file, or undefined when it has none (a new stack's file holds only its salt). */
export function stackFileConfig(text: string, source: string): Record<string, unknown> | undefined {
  const config = parse(text, source).config;
  if (config === undefined || config === null) return undefined;
  if (!isMap(config))
    throw new StackFileError(source, ["config: must be a mapping of config keys to values"]);
  return config;
}

/**
 * Whether a stack file marks its stack ephemeral, read by the program's own parser of the key
 * (`true`, `yes`, `1`, `on`, … as the stack config accepts), so `destroy` never disagrees with `up`.
 */
export function isEphemeralStackFile(text: string, source: string): boolean {
  const value = stackFileConfig(text, source)?.["cdc-pipeline:ephemeral"];
  if (value === undefined || value === null) return false;
  // Pulumi hands the program every scalar as its text (a YAML `true` arrives as "true").
  const parsed = settingsSchema.shape.ephemeral.safeParse(typeof value === "object" ? value : String(value));
  if (!parsed.success) {
    throw new StackFileError(source, [
      `config.cdc-pipeline:ephemeral: ${parsed.error.issues[0]!.message} (got ${JSON.stringify(value)})`,
    ]);
  }
  return parsed.data === true;
}

/** The secrets settings of a stack file (`secretsprovider`, `encryptedkey`, `encryptionsalt`). */
export function stackFileSecrets(text: string, source: string): Record<string, unknown> {
  const doc = parse(text, source);
  return Object.fromEntries(SECRETS_KEYS.filter((k) => k in doc).map((k) => [k, doc[k]]));
}

/**
 * A hand-written stack file (dev, prod) with the secrets settings pulumi wrote for its new stack:
 * `text` unchanged otherwise (pulumi's own rewrite drops the comments), the settings before `config:`.
 */
export function withSecretsSettings(text: string, secrets: Record<string, unknown>): string {
  if (Object.keys(secrets).length === 0) return text;
  if (isDeepStrictEqual(stackFileSecrets(text, "stack file"), secrets)) return text;
  const kept = text.replace(new RegExp(`^(${SECRETS_KEYS.join("|")}):.*\\n`, "gm"), "");
  const block = dump(secrets, { lineWidth: -1 });
  const config = /^config:/m.exec(kept);
  if (!config) return `${kept}${kept === "" || kept.endsWith("\n") ? "" : "\n"}${block}`;
  return kept.slice(0, config.index) + block + kept.slice(config.index);
}
