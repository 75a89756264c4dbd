// Local validation of a connector's inputs (the provider's `check`): every problem becomes a failure that
// names the property, before anything talks to Kafka Connect.
export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * Pulumi's placeholder for a value not known during preview (`pulumi.runtime.unknownValue`), inlined because
 * the provider is serialized and must not capture the SDK; a test pins it to the SDK's constant.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * A Kafka config-provider reference, `${provider:key}` or `${provider:path:key}`, split as Kafka's
 * ConfigTransformer.DEFAULT_PATTERN splits it (lazy groups: the path ends at the second colon, the key is
 * the rest). Inlined, not imported from connectors/config: the provider is serialized and captures no module.
 */
const PLACEHOLDER = /^\$\{([A-Za-z0-9_.-]+):(([^}]*?):)?([^}]+?)\}$/;

// Config keys whose values are credentials: they must be placeholders that only the Connect workers resolve.
const SENSITIVE_KEYS = [
  /(^|[._-])(password|passwd|pwd|secret|token|credentials?)$/,
  /(^|[._-])(secret|access|private|api|customer|encryption)[._-]?key$/,
  /(^|\.)keystore\.key$/,
  /(^|\.)basic\.auth\.user\.info$/,
];
const JAAS_CONFIG = /(^|\.)sasl\.jaas\.config$/;
const JAAS_OPTION = /([A-Za-z0-9_.-]+)\s*=\s*"([^"]*)"/g;

export function isSensitiveKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SENSITIVE_KEYS.some((pattern) => pattern.test(lower));
}

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value);
}

/**
 * Why Kafka would resolve a placeholder other than the way it reads, or undefined: a key that still holds
 * a colon means the path had one (an ARN), which Kafka cut at its first colon.
 */
export function placeholderProblem(value: string): string | undefined {
  const match = PLACEHOLDER.exec(value);
  if (!match || !match[4]!.includes(":")) return undefined;
  return (
    `is a placeholder Kafka Connect would misread: it splits \${provider:path:key} at the first two colons, ` +
    `so this is provider "${match[1]!}", path "${match[3] ?? ""}", key "${match[4]!}"; a path cannot hold a colon: ` +
    "reference the secret by its name, not its ARN (${secretsmanager:<secret name>:password})"
  );
}

/** Why a config value leaks a credential, or undefined when it is safe to store and send. */
export function plaintextSecretReason(key: string, value: string): string | undefined {
  if (value === UNKNOWN_VALUE) return undefined;
  if (isPlaceholder(value)) return placeholderProblem(value);
  if (JAAS_CONFIG.test(key.toLowerCase())) {
    // A JAAS line is safe when each credential option in it is a placeholder (IAM login carries none).
    const options = [...value.matchAll(JAAS_OPTION)].filter(([, option]) => isSensitiveKey(option!));
    const leaked = options
      .filter(([, , optionValue]) => !isPlaceholder(optionValue!))
      .map(([, option]) => option!);
    if (leaked.length > 0)
      return `holds a plaintext ${leaked.join(", ")}; write each as a config-provider placeholder, e.g. password="\${secretsmanager:<secret name>:password}"`;
    const misread = options.find(([, , optionValue]) => placeholderProblem(optionValue!) !== undefined);
    return misread && `option ${misread[1]!} ${placeholderProblem(misread[2]!)!}`;
  }
  if (isSensitiveKey(key)) {
    return "looks like a credential and must be a config-provider placeholder such as ${secretsmanager:<secret name>:password} or ${env:VAR}, never the plaintext value";
  }
  return undefined;
}

export function configProperty(key: string): string {
  return `config[${JSON.stringify(key)}]`;
}

/** Validates raw inputs; unknown values (preview) pass and are checked again when known. */
export function checkConnectorInputs(news: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const { name, connectUrl, config, tlsCa } = news;

  if (name !== UNKNOWN_VALUE) {
    if (typeof name !== "string" || name.trim() === "") fail("name", "must be a non-empty string");
    else if (name !== name.trim())
      fail("name", `"${name}" has leading or trailing whitespace, which Connect strips`);
    else if (/[/\\]|\p{Cc}/u.test(name)) fail("name", `"${name}" contains a slash or a control character`);
  }

  if (connectUrl !== UNKNOWN_VALUE) {
    const reason = urlProblem(connectUrl, tlsCa);
    if (reason) fail("connectUrl", reason);
  }

  if (config !== UNKNOWN_VALUE) {
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      fail("config", "must be a map of config keys to string values");
    } else if (Object.keys(config).length === 0) {
      fail("config", "must not be empty");
    } else {
      checkConfig(config as Record<string, unknown>, name, fail);
    }
  }

  if (
    tlsCa !== undefined &&
    tlsCa !== UNKNOWN_VALUE &&
    (typeof tlsCa !== "string" || !tlsCa.includes("-----BEGIN CERTIFICATE-----"))
  ) {
    fail("tlsCa", "must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  checkPositiveNumbers(
    news.timeouts,
    "timeouts",
    ["runningTimeoutSeconds", "requestTimeoutSeconds", "pollIntervalSeconds"],
    fail,
  );
  checkPositiveNumbers(
    news.retry,
    "retry",
    ["maxAttempts", "baseDelayMs", "maxDelayMs", "maxElapsedMs"],
    fail,
  );
  const auth = news.auth as { username?: unknown } | undefined;
  if (auth !== undefined && auth !== null && (typeof auth.username !== "string" || auth.username === "")) {
    fail("auth.username", "must be a non-empty string");
  }
  if ("password" in (auth ?? {})) {
    fail(
      "auth.password",
      "is not an input: the provider reads the password from auth.passwordEnvVar (default KAFKA_CONNECT_PASSWORD)",
    );
  }
  return failures;
}

function urlProblem(connectUrl: unknown, tlsCa: unknown): string | undefined {
  if (typeof connectUrl !== "string" || connectUrl === "")
    return "must be the Connect REST URL, e.g. http://connect.internal:8083";
  let url: URL;
  try {
    url = new URL(connectUrl);
  } catch {
    return `"${connectUrl}" is not a URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `"${connectUrl}" must use http or https`;
  if (url.search !== "" || url.hash !== "") return `"${connectUrl}" must not carry a query or a fragment`;
  if (url.username !== "" || url.password !== "")
    return `"${connectUrl}" must not embed credentials; use auth`;
  if (tlsCa !== undefined && url.protocol !== "https:")
    return `"${connectUrl}" is not https but tlsCa is set`;
  return undefined;
}

function checkConfig(
  config: Record<string, unknown>,
  name: unknown,
  fail: (property: string, reason: string) => void,
) {
  for (const [key, value] of Object.entries(config)) {
    if (value === UNKNOWN_VALUE) continue;
    if (typeof value !== "string") {
      fail(
        configProperty(key),
        `must be a string (Kafka Connect configs are strings), got ${JSON.stringify(value)}`,
      );
      continue;
    }
    const secretReason = plaintextSecretReason(key, value);
    if (secretReason) fail(configProperty(key), secretReason);
  }
  const connectorClass = config["connector.class"];
  if (connectorClass === undefined || (typeof connectorClass === "string" && connectorClass.trim() === "")) {
    fail(configProperty("connector.class"), "is required (the connector plugin class)");
  }
  const configName = config["name"];
  if (
    configName !== undefined &&
    configName !== UNKNOWN_VALUE &&
    name !== UNKNOWN_VALUE &&
    configName !== name
  ) {
    fail(
      configProperty("name"),
      `is "${String(configName)}" but the connector is named "${String(name)}"; Connect rejects the mismatch`,
    );
  }
}

function checkPositiveNumbers(
  value: unknown,
  property: string,
  fields: string[],
  fail: (property: string, reason: string) => void,
) {
  if (value === undefined || value === null || value === UNKNOWN_VALUE) return;
  if (typeof value !== "object") return fail(property, "must be an object");
  for (const [field, fieldValue] of Object.entries(value)) {
    if (!fields.includes(field))
      fail(`${property}.${field}`, `is not a known setting (${fields.join(", ")})`);
    else if (
      fieldValue !== undefined &&
      fieldValue !== UNKNOWN_VALUE &&
      !(typeof fieldValue === "number" && fieldValue > 0 && Number.isFinite(fieldValue))
    ) {
      fail(`${property}.${field}`, `must be a positive number, got ${JSON.stringify(fieldValue)}`);
    }
  }
}
