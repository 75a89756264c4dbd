// The dynamic provider behind KafkaConnector. Pulumi serializes this object (and everything it reaches)
// into the state, so it captures only plain functions and data: HTTP clients are built per call.
import type * as pulumi from "@pulumi/pulumi";
import { checkConnectorInputs } from "./check";
import { createConnectClient, type ConnectClient } from "./client";
import { diffConnector, diffConfigKeys, comparableConfig, needsReapply, type ConnectorDiff } from "./diff";
import { connectorError } from "./errors";
import { resolveRetryPolicy } from "./retry";
import type { ConnectorInputs, ConnectorOutputs, ConnectorStatus } from "./types";
import { validateBeforeApply } from "./validate";
import { waitForState, type ConfigChange, type WaitTarget } from "./wait";

export const DEFAULT_TIMEOUTS = {
  runningTimeoutSeconds: 300,
  requestTimeoutSeconds: 30,
  pollIntervalSeconds: 2,
};

// Keys of the inputs, in the order the outputs list them; the outputs add the live states.
const INPUT_FIELDS = [
  "connectUrl",
  "name",
  "config",
  "auth",
  "tlsCa",
  "timeouts",
  "retry",
  "resetOffsetsOnDelete",
  "version",
] as const;

function timeoutsOf(inputs: ConnectorInputs): typeof DEFAULT_TIMEOUTS {
  return { ...DEFAULT_TIMEOUTS, ...inputs.timeouts };
}

function clientFor(inputs: ConnectorInputs): ConnectClient {
  const timeouts = timeoutsOf(inputs);
  return createConnectClient({
    connectUrl: inputs.connectUrl,
    connector: inputs.name,
    auth: inputs.auth,
    tlsCa: inputs.tlsCa,
    requestTimeoutMs: timeouts.requestTimeoutSeconds * 1000,
    retry: resolveRetryPolicy(inputs.retry),
  });
}

function waitFor(
  client: ConnectClient,
  inputs: ConnectorInputs,
  target: WaitTarget,
  change?: ConfigChange,
): Promise<ConnectorStatus> {
  const timeouts = timeoutsOf(inputs);
  return waitForState(client, inputs.name, target, {
    timeoutMs: timeouts.runningTimeoutSeconds * 1000,
    pollIntervalMs: timeouts.pollIntervalSeconds * 1000,
    change,
  });
}

/** The inputs part of stored outputs (what `read` hands back so the next preview diffs from the live config). */
function inputsOf(props: ConnectorInputs): ConnectorInputs {
  const picked: Record<string, unknown> = {};
  for (const field of INPUT_FIELDS) if (props[field] !== undefined) picked[field] = props[field];
  return picked as unknown as ConnectorInputs;
}

// What a connector that exists but has no status yet (not assigned to a worker) reports.
const NOT_ASSIGNED: ConnectorStatus = {
  name: "",
  connector: { state: "UNASSIGNED", worker_id: "" },
  tasks: [],
};

function outputsOf(
  inputs: ConnectorInputs,
  applied: Record<string, string>,
  status: ConnectorStatus,
): ConnectorOutputs {
  const workers = [status.connector.worker_id, ...status.tasks.map((task) => task.worker_id)].filter(
    (id) => id !== "",
  );
  return {
    ...inputsOf(inputs),
    config: comparableConfig(applied, inputs.name),
    connectorState: status.connector.state,
    taskStates: status.tasks.map((task) => ({
      id: task.id,
      state: task.state,
      workerId: task.worker_id,
      ...(task.trace === undefined ? {} : { trace: task.trace }),
    })),
    workerIds: [...new Set(workers)].sort(),
  };
}

/**
 * `PUT /connectors/{name}/config`, after Connect's validate endpoint accepted the config: a config it rejects
 * fails here, before the PUT, so the running connector (if any) keeps its config and its tasks.
 */
async function validateAndPut(client: ConnectClient, inputs: ConnectorInputs) {
  await validateBeforeApply(client, inputs.name, inputs.connectUrl, inputs.config);
  return client.putConfig(inputs.config);
}

/**
 * Applies the config unless an identical one exists already (adoption); refuses to take over a different one.
 * `created`: this call created the connector.
 */
async function applyOnCreate(
  client: ConnectClient,
  inputs: ConnectorInputs,
): Promise<{ applied: Record<string, string>; created: boolean }> {
  const existing = await client.getConfig();
  if (existing === undefined)
    return { applied: (await validateAndPut(client, inputs)).info.config, created: true };
  const differences = diffConfigKeys(
    comparableConfig(existing, inputs.name),
    comparableConfig(inputs.config, inputs.name),
  );
  if (differences.length > 0) {
    const listed = differences.map(
      ({ key, kind }) => `${key} (${kind === "add" ? "missing" : kind === "delete" ? "extra" : "different"})`,
    );
    throw connectorError(
      inputs.name,
      `already exists on ${inputs.connectUrl} with a different config (${listed.join(", ")}); ` +
        "delete it, or make the declared config match to adopt it",
    );
  }
  return { applied: existing, created: false };
}

export const connectorProvider = {
  async check(_olds, news) {
    const failures = checkConnectorInputs(news as unknown as Record<string, unknown>);
    return { inputs: news, failures };
  },

  async diff(_id, olds, news): Promise<ConnectorDiff> {
    // The host of @pulumi/pulumi 3.248 drops `detailedDiff`; see docs/connectors.md on what preview shows.
    return diffConnector(olds, news);
  },

  async create(inputs) {
    const client = clientFor(inputs);
    const { applied, created } = await applyOnCreate(client, inputs);
    try {
      const status = await waitFor(client, inputs, "RUNNING");
      return { id: inputs.name, outs: outputsOf(inputs, applied, status) };
    } catch (error) {
      // A failed create is not recorded in the state: a connector left in Connect would be one Pulumi does
      // not know, and the next `up` with a fixed config would refuse to adopt it. Remove what this call made.
      if (created) await client.deleteConnector().catch(() => undefined);
      throw error;
    }
  },

  async update(_id, olds, news) {
    const client = clientFor(news);
    // Only provider settings changed: keep the connector running untouched (a PUT restarts it), unless
    // it was deleted by hand since the last refresh, in which case it is created again.
    const current = needsReapply(olds, news) ? undefined : await client.getConfig();
    const put = current === undefined ? await validateAndPut(client, news) : undefined;
    const applied = current ?? put!.info.config;
    // An update restarts the tasks asynchronously: wait for task configs from the new config before
    // trusting the status (the old tasks may still report RUNNING). A connector created again has no old tasks.
    const change = put && !put.created ? { previous: olds.config, desired: news.config } : undefined;
    const status = await waitFor(client, news, "RUNNING", change);
    return { outs: outputsOf(news, applied, status) };
  },

  async delete(_id, props) {
    const client = clientFor(props);
    if (props.resetOffsetsOnDelete && (await client.stop())) {
      // Offsets survive a delete; a re-created connector under the same name would resume from them.
      await waitFor(client, props, "STOPPED");
      await client.deleteOffsets();
    }
    await client.deleteConnector();
  },

  async read(id, props) {
    const current = props!;
    const client = clientFor(current);
    const applied = await client.getConfig();
    // Gone (deleted by hand): no id tells Pulumi to drop it from the state.
    if (applied === undefined) return {};
    const outs = outputsOf(current, applied, (await client.getStatus()) ?? NOT_ASSIGNED);
    // The refreshed inputs carry the live config, so the next preview shows the drift key by key.
    const inputs = { ...inputsOf(current), config: outs.config };
    return { id, props: outs, inputs: inputs as ConnectorOutputs };
  },
} satisfies pulumi.dynamic.ResourceProvider<ConnectorInputs, ConnectorOutputs>;
