// Connect's own validation of a config (`PUT /connector-plugins/{class}/config/validate`) before the provider
// applies it with `PUT /connectors/{name}/config`. A PUT of a config Connect rejects is refused too, but the
// validate endpoint applies nothing, answers every failing key at once, and tells an unknown plugin apart.
// Plain functions and data only: the provider is serialized into the state.
import { isPlaceholder, isSensitiveKey } from "./check";
import type { ConnectClient } from "./client";
import { connectorConfigError, connectorError, isConnectApiError, type ConfigKeyErrors } from "./errors";
import type { ConfigValidation } from "./types";

/** What replaces a secret value in an error message. */
export const HIDDEN = "[hidden]";

// Connect's message for a plugin class that no worker has loaded (the 500 of the validate endpoint, or the
// error attached to `connector.class`).
const UNKNOWN_PLUGIN_MESSAGE = /Failed to find any class that implements Connector/;
const JAAS_CONFIG = /(^|\.)sasl\.jaas\.config$/i;

function isSecretKey(key: string): boolean {
  return isSensitiveKey(key) || JAAS_CONFIG.test(key);
}

/**
 * Values that must never appear in an error: those of credential-like keys as sent and as Connect reports
 * them (workers resolve config-provider placeholders before validating, so a reported value may be the
 * secret itself). A placeholder is not a secret and may show. Longest first, so a value that contains
 * another is hidden whole.
 */
export function secretValues(submitted: Record<string, string>, result?: ConfigValidation): string[] {
  const values: unknown[] = [];
  for (const [key, value] of Object.entries(submitted)) if (isSecretKey(key)) values.push(value);
  for (const config of result?.configs ?? []) {
    if (isSecretKey(config.value?.name ?? "")) values.push(config.value.value);
  }
  const secrets = values.filter(
    (value): value is string =>
      typeof value === "string" && value !== "" && value !== HIDDEN && !isPlaceholder(value),
  );
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

export function hideSecrets(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join(HIDDEN), text);
}

/** The keys Connect rejected, in Connect's order, with its messages; secret values hidden. */
export function rejectedKeys(result: ConfigValidation, submitted: Record<string, string>): ConfigKeyErrors[] {
  const secrets = secretValues(submitted, result);
  return (result.configs ?? [])
    .filter((config) => (config.value?.errors ?? []).length > 0)
    .map((config) => ({
      key: config.value.name,
      messages: config.value.errors.map((message) => hideSecrets(message, secrets)),
    }));
}

/** Connect's message when a validate answer says the plugin class is not installed, else undefined. */
export function unknownPluginMessage(result: ConfigValidation): string | undefined {
  const connectorClass = (result.configs ?? []).find((config) => config.value?.name === "connector.class");
  return connectorClass?.value.errors.find((message) => UNKNOWN_PLUGIN_MESSAGE.test(message));
}

function unknownPluginError(connector: string, connectUrl: string, connectorClass: string, answer: string) {
  return connectorError(
    connector,
    `connector.class "${connectorClass}" is not a connector plugin the Connect workers at ${connectUrl} have; ` +
      "the worker image probably lacks the plugin: install it on the workers' plugin.path (GET /connector-plugins " +
      `lists what they load), or fix config["connector.class"]. Nothing was applied. ${answer}`,
  );
}

/**
 * Validates `config` with Connect and throws unless it has no error. Nothing is applied either way; the
 * caller sends `PUT /connectors/{name}/config` only after this returns.
 */
export async function validateBeforeApply(
  client: ConnectClient,
  connector: string,
  connectUrl: string,
  config: Record<string, string>,
): Promise<void> {
  const connectorClass = config["connector.class"];
  if (connectorClass === undefined || connectorClass.trim() === "") {
    throw connectorError(connector, 'config["connector.class"] is required (the connector plugin class)');
  }
  const endpoint = `PUT /connector-plugins/${connectorClass}/config/validate`;
  let result: ConfigValidation;
  try {
    result = await client.validateConfig(config);
  } catch (err) {
    // Connect 4 answers 500 "…BadRequestException: Failed to find any class…" for a class no worker has (not
    // retried: see retry.ts); a 404 or 400 means the same.
    if (
      isConnectApiError(err) &&
      (err.status === 404 || err.status === 400 || UNKNOWN_PLUGIN_MESSAGE.test(err.connectMessage))
    ) {
      const answer = hideSecrets(
        `${endpoint} failed with HTTP ${err.status} after ${err.attempts === 1 ? "1 attempt" : `${err.attempts} attempts`}: ${err.connectMessage}`,
        secretValues(config),
      );
      throw unknownPluginError(connector, connectUrl, connectorClass, answer);
    }
    throw err;
  }
  if (typeof result !== "object" || result === null || typeof result.error_count !== "number") {
    throw connectorError(
      connector,
      `${endpoint} answered without an error_count: ${String(result).slice(0, 200)}`,
    );
  }
  const unknown = unknownPluginMessage(result);
  if (unknown !== undefined) {
    throw unknownPluginError(
      connector,
      connectUrl,
      connectorClass,
      `${endpoint} reported: ${hideSecrets(unknown, secretValues(config, result))}`,
    );
  }
  if (result.error_count === 0) return;
  const rejected = rejectedKeys(result, config);
  const lines = rejected.map(({ key, messages }) => `\n  ${key}: ${messages.join("; ")}`);
  if (rejected.length === 0) lines.push("\n  (Connect attached the errors to no key)");
  throw connectorConfigError(
    connector,
    `Connect rejected the config: ${endpoint} reported ${result.error_count} error(s); nothing was applied ` +
      `(no PUT /connectors/${connector}/config), the connector is left as it was:${lines.join("")}`,
    rejected,
  );
}
