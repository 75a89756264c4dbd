// The connector health check the stack runs every minute as a Lambda function in the VPC: it reads
// the Connect REST API's `/connectors?expand=status` and writes the states as CloudWatch metrics in
// the embedded metric format (a JSON line on stdout that CloudWatch Logs turns into metrics, so the
// function needs no route to the CloudWatch API). No imports: the Lambda runs this module's
// `handler` as Pulumi serializes it (docs/deploy.md, "Connector and task states").

/** The states Kafka Connect reports for a connector or a task. */
export const STATES = ["RUNNING", "PAUSED", "STOPPED", "UNASSIGNED", "RESTARTING", "FAILED"] as const;

/** One entry of `/connectors?expand=status`: `{ "<name>": { "status": … } }`. */
interface ConnectorStatus {
  name: string;
  connector: { state: string; worker_id?: string; trace?: string };
  tasks: { id: number; state: string; worker_id?: string; trace?: string }[];
}

export interface ConnectHealth {
  /** Connectors per state (`STATES`), plus `MISSING`: expected but not deployed. */
  connectors: Record<string, number>;
  /** Tasks per state (`STATES`). */
  tasks: Record<string, number>;
  /** Connectors (missing ones included) and tasks not RUNNING: what the alarm watches. */
  notRunning: number;
  /** One line per connector or task that is not RUNNING, for the log. */
  problems: string[];
}

const zeros = (keys: readonly string[]): Record<string, number> =>
  Object.fromEntries(keys.map((k) => [k, 0]));

/** The health of the connectors in a `/connectors?expand=status` body, given the names that must exist. */
export function connectHealth(body: unknown, expected: string[]): ConnectHealth {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new Error(`/connectors?expand=status did not answer a map of connectors: ${JSON.stringify(body)}`);
  }
  const health: ConnectHealth = {
    connectors: zeros([...STATES, "MISSING"]),
    tasks: zeros(STATES),
    notRunning: 0,
    problems: [],
  };
  const count = (counts: Record<string, number>, state: string, what: string, trace?: string) => {
    if (state in counts) counts[state] = (counts[state] as number) + 1;
    if (state === "RUNNING") return;
    health.notRunning += 1;
    health.problems.push(`${what} is ${state}${trace ? `: ${trace.split("\n")[0]}` : ""}`);
  };
  const entries = body as Record<string, { status?: ConnectorStatus }>;
  for (const name of expected.filter((n) => !(n in entries))) {
    count(health.connectors, "MISSING", `connector ${name}`);
  }
  for (const [name, entry] of Object.entries(entries).sort(([a], [b]) => a.localeCompare(b))) {
    const status = entry?.status;
    if (!status?.connector || !Array.isArray(status.tasks)) {
      throw new Error(
        `connector ${name} has no status in /connectors?expand=status: ${JSON.stringify(entry)}`,
      );
    }
    count(health.connectors, status.connector.state, `connector ${name}`, status.connector.trace);
    for (const task of status.tasks) count(health.tasks, task.state, `${name} task ${task.id}`, task.trace);
  }
  return health;
}

/** `Connectors` + `FAILED` → `ConnectorsFailed`: the CloudWatch metric of a state. */
export function stateMetric(kind: "Connectors" | "Tasks", state: string): string {
  return `${kind}${state.charAt(0)}${state.slice(1).toLowerCase()}`;
}

/** One embedded-metric-format document: every count, in `namespace`, with the dimension `Stack`. */
export function emfRecord(
  health: ConnectHealth,
  namespace: string,
  stack: string,
  timestamp: number,
): Record<string, unknown> {
  const values: Record<string, number> = {
    NotRunning: health.notRunning,
    ...Object.fromEntries(
      Object.entries(health.connectors).map(([s, n]) => [stateMetric("Connectors", s), n]),
    ),
    ...Object.fromEntries(Object.entries(health.tasks).map(([s, n]) => [stateMetric("Tasks", s), n])),
  };
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [["Stack"]],
          Metrics: Object.keys(values).map((Name) => ({ Name, Unit: "Count" })),
        },
      ],
    },
    Stack: stack,
    ...values,
    problems: health.problems,
  };
}

/** Reads `/connectors?expand=status` from the REST API at `url` (no trailing slash). */
export async function readConnectHealth(
  url: string,
  expected: string[],
  timeoutMs: number,
): Promise<ConnectHealth> {
  const response = await fetch(`${url}/connectors?expand=status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    throw new Error(
      `GET ${url}/connectors?expand=status answered ${response.status}: ${await response.text()}`,
    );
  }
  return connectHealth(await response.json(), expected);
}

/**
 * The Lambda handler. Settings come from the environment: CONNECT_URL, EXPECTED_CONNECTORS
 * (comma-separated), METRIC_NAMESPACE, STACK. When the REST API cannot be read, every expected
 * connector counts as not running (the alarm fires), and the error fails the invocation.
 */
export async function handler(): Promise<ConnectHealth> {
  const setting = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`the environment variable ${name} is not set`);
    return value;
  };
  const url = setting("CONNECT_URL").replace(/\/+$/, "");
  const expected = setting("EXPECTED_CONNECTORS").split(",");
  const write = (health: ConnectHealth) =>
    process.stdout.write(
      `${JSON.stringify(emfRecord(health, setting("METRIC_NAMESPACE"), setting("STACK"), Date.now()))}\n`,
    );
  try {
    const health = await readConnectHealth(url, expected, 10_000);
    write(health);
    return health;
  } catch (error) {
    const unread = connectHealth({}, expected);
    unread.problems.unshift(`the REST API at ${url} could not be read: ${String(error)}`);
    write(unread);
    throw error;
  }
}
