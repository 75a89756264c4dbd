/**
 * Kafka Connect config providers, resolved locally: `${env:VAR}` (EnvVarConfigProvider) and
 * `${file:/path:key}` (FileConfigProvider: a Java properties file). The worker's
 * `config.providers` declaration is implicit. Any other provider is an error.
 *
 * Variables are found and split with Kafka's own pattern (ConfigTransformer.DEFAULT_PATTERN): the path
 * ends at the second colon. A variable whose key still holds a colon had a colon in its path (an ARN),
 * which Kafka would cut there and resolve wrongly; it is rejected here instead.
 */
import { readFileSync } from "node:fs";
import { KAFKA_VARIABLE_PATTERN, placeholderSplitProblem } from "../config/validation";

/** Kafka ConfigTransformer's variable pattern: `${provider:[path:]key}` anywhere in a value. */
const VARIABLE = new RegExp(KAFKA_VARIABLE_PATTERN, "g");

export class ConfigProviderError extends Error {}

/** Parses a Java properties file (key=value / key: value / key value, # and ! comments, escapes). */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.replace(/\\\r?\n[ \t\f]*/g, "").split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.replace(/^[ \t\f]+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const match = /^((?:\\.|[^=:\s\\])*)[ \t\f]*[=:]?[ \t\f]*(.*)$/.exec(line);
    if (!match) continue;
    const unescape = (s: string): string =>
      s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, c: string) => {
        if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
        return ({ t: "\t", n: "\n", r: "\r", f: "\f" } as Record<string, string>)[c] ?? c;
      });
    result.set(unescape(match[1]!), unescape(match[2]!));
  }
  return result;
}

function resolveOne(configKey: string, provider: string, path: string | undefined, key: string): string {
  const where = `config key "${configKey}"`;
  const misread = placeholderSplitProblem({ provider, path, key });
  if (misread) throw new ConfigProviderError(`${where}: ${misread}`);
  if (provider === "env") {
    if (path) throw new ConfigProviderError(`${where}: \${env:...} takes no path (use \${env:VAR})`);
    const value = process.env[key];
    if (value === undefined)
      throw new ConfigProviderError(`${where}: environment variable ${key} is not set`);
    return value;
  }
  if (provider === "file") {
    if (!path)
      throw new ConfigProviderError(`${where}: \${file:...} needs a path (\${file:/path/to/file:key})`);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new ConfigProviderError(`${where}: cannot read ${path}: ${(err as Error).message}`);
    }
    const value = parseProperties(text).get(key);
    if (value === undefined) throw new ConfigProviderError(`${where}: ${path} has no key "${key}"`);
    return value;
  }
  throw new ConfigProviderError(
    `${where}: config provider "${provider}" is not available locally (only env and file are; ` +
      `e.g. set the secret in an environment variable and use \${env:VAR})`,
  );
}

/** Replaces every provider variable in every value; throws on an unknown provider or a missing value. */
export function resolvePlaceholders(config: Record<string, string>): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    // Groups as Kafka numbers them: 1 provider, 3 path (undefined without one), 4 key.
    resolved[key] = value.replace(
      VARIABLE,
      (_m, provider: string, _pathWithColon: string | undefined, path: string | undefined, name: string) =>
        resolveOne(key, provider, path, name),
    );
  }
  return resolved;
}
