/** The JSON Kafka Connect takes (`{name, config}` or a flat map), validated key by key. */
import type { ConnectorConfig } from "../config";
import { connectorNameProblem } from "./connector-name";
import { resolvePlaceholders } from "./placeholders";

export type ConnectorInput = ConnectorConfig | Record<string, string>;

export class ConnectorConfigError extends Error {
  constructor(connector: string, message: string) {
    super(`${connector}: ${message}`);
    this.name = "ConnectorConfigError";
  }
}

/** Splits `{name, config}` or a flat map (which then carries `name`) into name and string map. */
export function normalizeConnectorInput(
  input: unknown,
  role: string,
): { name: string; config: Record<string, string> } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ConnectorConfigError(role, "expected a JSON object ({name, config} or a flat config map)");
  }
  const object = input as Record<string, unknown>;
  const wrapped = typeof object.config === "object" && object.config !== null;
  const raw = (wrapped ? object.config : object) as Record<string, unknown>;
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string") config[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") config[key] = String(value);
    else
      throw new ConnectorConfigError(
        role,
        `config key "${key}" must be a string, got ${JSON.stringify(value)}`,
      );
  }
  const name = wrapped ? object.name : config.name;
  if (typeof name !== "string" || name === "")
    throw new ConnectorConfigError(role, 'missing connector "name"');
  if (wrapped && config.name !== undefined && config.name !== name) {
    throw new ConnectorConfigError(name, `config "name" (${config.name}) differs from the connector name`);
  }
  const problem = connectorNameProblem(name);
  if (problem) throw new ConnectorConfigError(role, problem);
  return { name, config: resolvePlaceholders(config) };
}

/** Typed access to a validated config map; every key read is marked as understood. */
export class ConfigReader {
  private readonly used = new Set<string>(["name"]);

  constructor(
    readonly connector: string,
    private readonly config: Record<string, string>,
  ) {}

  fail(message: string): never {
    throw new ConnectorConfigError(this.connector, message);
  }

  has(key: string): boolean {
    return this.config[key] !== undefined;
  }

  string(key: string, fallback?: string): string {
    this.used.add(key);
    const value = this.config[key] ?? fallback;
    if (value === undefined) this.fail(`missing required config key "${key}"`);
    return value;
  }

  optional(key: string): string | undefined {
    this.used.add(key);
    return this.config[key];
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const value = this.string(key, fallback);
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(
        `config key "${key}" = "${value}" is not supported locally (supported: ${allowed.join(", ")})`,
      );
    }
    return value as T;
  }

  int(key: string, fallback?: number, min = 0): number {
    const text = this.string(key, fallback === undefined ? undefined : String(fallback));
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      this.fail(`config key "${key}" = "${text}" must be an integer >= ${min}`);
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    return this.oneOf(key, ["true", "false"], fallback ? "true" : "false") === "true";
  }

  /** Keys that have no effect locally: accepted (marked used) if present. */
  accept(keys: readonly string[], prefixes: readonly string[] = []): void {
    for (const key of Object.keys(this.config)) {
      if (keys.includes(key) || prefixes.some((p) => key.startsWith(p))) this.used.add(key);
    }
  }

  /** After reading: any key not understood is an error naming it. */
  rejectUnknown(): void {
    const unknown = Object.keys(this.config).filter((k) => !this.used.has(k));
    if (unknown.length > 0) {
      this.fail(
        `config key(s) not supported by the local runtime: ${unknown.map((k) => `"${k}"`).join(", ")}`,
      );
    }
  }
}
