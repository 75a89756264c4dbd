// The pipeline's real connector configs (connectors/config builders) as the resource will receive them:
// they pass `check`, and the emulator accepts them and runs them.
import { describe, expect, it } from "vitest";
import { buildSinkConnector, buildSourceConnector, type ConnectorConfig } from "../../../connectors/config";
import { checkConnectorInputs, connectorProvider } from "../../../connectors/connect-api";
import { FAST_RETRY, PASSWORD_PLACEHOLDER, useConnectEmulator } from "./fixtures";

const source = (password: string) =>
  buildSourceConnector({
    database: { hostname: "db.internal", port: 5432, dbname: "app", password, sslMode: "require" },
  });
const sink = () => buildSinkConnector({ bucket: "cdc-raw-bucket", region: "eu-west-1", topicsDir: "topics" });

const emulator = useConnectEmulator();

const inputsFor = ({ name, config }: ConnectorConfig) => ({
  connectUrl: emulator().url,
  name,
  config,
  retry: FAST_RETRY,
  timeouts: { pollIntervalSeconds: 0.005 },
});

describe("the pipeline's connector configs", () => {
  it.each([
    ["source", () => source(PASSWORD_PLACEHOLDER)],
    ["sink", sink],
  ])("the %s passes check and is created RUNNING", async (_kind, build) => {
    const inputs = inputsFor(build());
    expect(checkConnectorInputs(inputs)).toEqual([]);
    const { outs } = await connectorProvider.create(inputs);
    expect(outs.connectorState).toBe("RUNNING");
    expect(outs.config).toEqual(inputs.config);
  });
});
