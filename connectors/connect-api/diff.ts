// The provider's `diff`, as pure functions: desired inputs against the stored outputs (whose `config` is
// the config Connect reported as applied), key by key, on the placeholder strings.
import { configProperty, UNKNOWN_VALUE } from "./check";
import type { ConnectorInputs, ConnectorOutputs } from "./types";

export type PropertyDiffKind =
  "add" | "delete" | "update" | "add-replace" | "delete-replace" | "update-replace";

export interface PropertyDiff {
  kind: PropertyDiffKind;
  inputDiff: boolean;
}

export interface ConnectorDiff {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** Per property and per config key (`config["tasks.max"]`), in the shape of Pulumi's DetailedDiff. */
  detailedDiff: Record<string, PropertyDiff>;
}

// Settings of the provider itself: a change updates in place without touching the connector's config.
const IN_PLACE_FIELDS = ["auth", "tlsCa", "timeouts", "retry", "resetOffsetsOnDelete"] as const;
// Fields whose change re-applies the config (PUT): the URL may point at a new cluster; a new version of the
// provider code may apply it differently.
const REAPPLY_FIELDS = ["connectUrl", "version"] as const;

/** Connect adds `name` to the config it returns; compare without it unless it says something else. */
export function comparableConfig(config: Record<string, string>, name: string): Record<string, string> {
  if (config["name"] !== name) return config;
  const { name: _dropped, ...rest } = config;
  return rest;
}

export interface ConfigKeyChange {
  key: string;
  kind: "add" | "delete" | "update";
}

/** Key-by-key changes from `applied` to `desired` (`add` = only in desired). */
export function diffConfigKeys(
  applied: Record<string, string>,
  desired: Record<string, string>,
): ConfigKeyChange[] {
  const keys = [...new Set([...Object.keys(applied), ...Object.keys(desired)])].sort();
  return keys.flatMap((key): ConfigKeyChange[] => {
    if (!(key in applied)) return [{ key, kind: "add" }];
    if (!(key in desired)) return [{ key, kind: "delete" }];
    return applied[key] === desired[key] ? [] : [{ key, kind: "update" }];
  });
}

export function diffConnector(olds: ConnectorOutputs, news: ConnectorInputs): ConnectorDiff {
  const detailedDiff: Record<string, PropertyDiff> = {};
  const replaces = new Set<string>();

  if (olds.name !== news.name) {
    detailedDiff["name"] = { kind: "update-replace", inputDiff: true };
    replaces.add("name");
  }

  if ((news.config as unknown) === UNKNOWN_VALUE) {
    detailedDiff["config"] = { kind: "update", inputDiff: true };
  } else {
    const applied = comparableConfig(olds.config ?? {}, olds.name);
    const desired = comparableConfig(news.config, news.name);
    for (const { key, kind } of diffConfigKeys(applied, desired)) {
      const replace = key === "connector.class";
      detailedDiff[configProperty(key)] = { kind: replace ? `${kind}-replace` : kind, inputDiff: true };
      if (replace) replaces.add("config");
    }
  }

  for (const field of [...REAPPLY_FIELDS, ...IN_PLACE_FIELDS]) {
    if (!sameValue(olds[field], news[field])) {
      detailedDiff[field] = {
        kind: olds[field] === undefined ? "add" : news[field] === undefined ? "delete" : "update",
        inputDiff: true,
      };
    }
  }

  return {
    changes: Object.keys(detailedDiff).length > 0,
    replaces: [...replaces],
    // Two connectors of one pipeline must never run at once (same slot, same topics): delete first.
    deleteBeforeReplace: replaces.size > 0,
    detailedDiff,
  };
}

/** Whether an update must PUT the config again (as opposed to recording new provider settings). */
export function needsReapply(olds: ConnectorOutputs, news: ConnectorInputs): boolean {
  const applied = comparableConfig(olds.config ?? {}, olds.name);
  const desired = comparableConfig(news.config, news.name);
  return (
    diffConfigKeys(applied, desired).length > 0 ||
    REAPPLY_FIELDS.some((field) => !sameValue(olds[field], news[field]))
  );
}

/** Structural equality of JSON values, ignoring key order and undefined members. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "undefined";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
