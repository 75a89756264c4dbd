import { describe, expect, it } from "vitest";
import { diffConfigKeys, diffConnector, type ConnectorOutputs } from "../../../connectors/connect-api";
import { needsReapply } from "../../../connectors/connect-api/diff";
import { UNKNOWN_VALUE } from "../../../connectors/connect-api/check";
import { SOURCE_CONFIG, sourceInputs } from "./fixtures";

const URL = "http://connect.internal:8083";

/** Stored outputs as the provider writes them: Connect's applied config (with its `name` key) and states. */
function stored(patch: Partial<ConnectorOutputs> = {}): ConnectorOutputs {
  return {
    ...sourceInputs(URL),
    config: { ...SOURCE_CONFIG, name: "cdc-source" },
    connectorState: "RUNNING",
    taskStates: [{ id: 0, state: "RUNNING", workerId: "w1" }],
    workerIds: ["w1"],
    ...patch,
    // The engine adds the serialized provider to the stored outputs: diff must ignore it.
    ...({ __provider: "exports.handler = ..." } as object),
  };
}

describe("diffConfigKeys", () => {
  it("lists added, deleted and changed keys in key order", () => {
    expect(diffConfigKeys({ a: "1", b: "2", c: "3" }, { a: "1", b: "20", d: "4" })).toEqual([
      { key: "b", kind: "update" },
      { key: "c", kind: "delete" },
      { key: "d", kind: "add" },
    ]);
  });
});

describe("diffConnector", () => {
  it("sees no change when the desired config equals the applied one (Connect's added name ignored)", () => {
    expect(diffConnector(stored(), sourceInputs(URL))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
      detailedDiff: {},
    });
  });

  it("updates in place, key by key, on the placeholder strings", () => {
    const config = {
      ...SOURCE_CONFIG,
      "tasks.max": "2",
      "database.password": "${env:OTHER}",
      "snapshot.mode": "never",
    };
    delete (config as Record<string, string>)["plugin.name"];
    expect(diffConnector(stored(), sourceInputs(URL, { config }))).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
      detailedDiff: {
        'config["database.password"]': { kind: "update", inputDiff: true },
        'config["plugin.name"]': { kind: "delete", inputDiff: true },
        'config["snapshot.mode"]': { kind: "add", inputDiff: true },
        'config["tasks.max"]': { kind: "update", inputDiff: true },
      },
    });
  });

  it("replaces, deleting first, on a rename", () => {
    expect(diffConnector(stored(), sourceInputs(URL, { name: "cdc-source-v2" }))).toEqual({
      changes: true,
      replaces: ["name"],
      deleteBeforeReplace: true,
      detailedDiff: { name: { kind: "update-replace", inputDiff: true } },
    });
  });

  it("replaces, deleting first, when connector.class changes", () => {
    const config = { ...SOURCE_CONFIG, "connector.class": "io.debezium.connector.mysql.MySqlConnector" };
    expect(diffConnector(stored(), sourceInputs(URL, { config }))).toEqual({
      changes: true,
      replaces: ["config"],
      deleteBeforeReplace: true,
      detailedDiff: { 'config["connector.class"]': { kind: "update-replace", inputDiff: true } },
    });
  });

  it("updates in place when provider settings change, and says which", () => {
    const news = sourceInputs(URL, {
      connectUrl: "http://connect-2.internal:8083",
      version: "2",
      timeouts: { runningTimeoutSeconds: 600 },
      resetOffsetsOnDelete: true,
    });
    const result = diffConnector(stored(), news);
    expect(result.replaces).toEqual([]);
    expect(result.detailedDiff).toEqual({
      connectUrl: { kind: "update", inputDiff: true },
      version: { kind: "update", inputDiff: true },
      timeouts: { kind: "update", inputDiff: true },
      resetOffsetsOnDelete: { kind: "add", inputDiff: true },
    });
  });

  it("treats unknown values in preview as changes (and an unknown class as a replace)", () => {
    const unknownConfig = diffConnector(stored(), sourceInputs(URL, { config: UNKNOWN_VALUE as never }));
    expect(unknownConfig).toMatchObject({
      changes: true,
      replaces: [],
      detailedDiff: { config: { kind: "update", inputDiff: true } },
    });
    const unknownClass = diffConnector(
      stored(),
      sourceInputs(URL, { config: { ...SOURCE_CONFIG, "connector.class": UNKNOWN_VALUE } }),
    );
    expect(unknownClass.replaces).toEqual(["config"]);
  });

  it("diffs against a hand-edited applied config after a refresh (drift)", () => {
    const drifted = stored({ config: { ...SOURCE_CONFIG, name: "cdc-source", "tasks.max": "4" } });
    expect(diffConnector(drifted, sourceInputs(URL)).detailedDiff).toEqual({
      'config["tasks.max"]': { kind: "update", inputDiff: true },
    });
  });
});

describe("needsReapply", () => {
  it.each<[string, Parameters<typeof sourceInputs>[1], boolean]>([
    ["nothing changed", {}, false],
    ["a config key", { config: { ...SOURCE_CONFIG, "tasks.max": "2" } }, true],
    ["the URL", { connectUrl: "http://other:8083" }, true],
    ["the version", { version: "2" }, true],
    ["only a timeout", { timeouts: { runningTimeoutSeconds: 9 } }, false],
    ["only the offset flag", { resetOffsetsOnDelete: true }, false],
  ])("%s -> %s", (_case, patch, expected) => {
    expect(needsReapply(stored(), sourceInputs(URL, patch))).toBe(expected);
  });
});
