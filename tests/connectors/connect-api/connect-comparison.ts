// Sending the same requests to a real Kafka Connect worker and to the emulator, and putting the answers in a
// form where only what may differ between two honest workers is replaced: worker ids (host:port), stack
// traces, plugin locations on disk, and the order of a Java set (tasks in a restart answer).
import { setTimeout as sleep } from "node:timers/promises";

export interface Answer {
  status: number;
  body: unknown;
}

const POLL_MS = 250;

export class RestTarget {
  constructor(
    readonly label: "connect" | "emulator",
    readonly url: string,
    /** How long it may take to settle (a real worker: rebalance, task start) before a poll gives up. */
    private readonly settleMs: number,
  ) {}

  /** One request; a 409 (a rebalance under way) is asked again until it ends, as the provider does. */
  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const deadline = Date.now() + this.settleMs;
    for (;;) {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const answer = {
        status: response.status,
        body: text === "" ? undefined : (JSON.parse(text) as unknown),
      };
      if (answer.status !== 409 || Date.now() > deadline) return answer;
      await sleep(POLL_MS);
    }
  }

  /** GETs `path` until `done` accepts the answer; fails after `settleMs` with the last answer. */
  async until(path: string, what: string, done: (answer: Answer) => boolean): Promise<Answer> {
    const deadline = Date.now() + this.settleMs;
    for (;;) {
      const answer = await this.call("GET", path);
      if (done(answer)) return answer;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.label}: GET ${path} never showed ${what} in ${this.settleMs / 1000} s; last: ${JSON.stringify(answer)}`,
        );
      }
      await sleep(POLL_MS);
    }
  }
}

interface StatusBody {
  connector: { state: string };
  tasks: Array<{ state: string }>;
}

/** A status whose connector is in `connectorState` with `tasks` tasks, all in `taskState`. */
export function statusIs(connectorState: string, tasks: number, taskState = connectorState) {
  return ({ status, body }: Answer) => {
    const settled = body as StatusBody;
    return (
      status === 200 &&
      settled.connector.state === connectorState &&
      settled.tasks.length === tasks &&
      settled.tasks.every((task) => task.state === taskState)
    );
  };
}

const WORKER_ID = /^[^\s:]+:\d+$/;

function isTaskStatus(value: unknown): value is { id: number; state: string } {
  return typeof value === "object" && value !== null && "id" in value && typeof value.id === "number";
}

/** Worker ids and traces become their form; plugin locations are hidden; task statuses sorted by id. */
export function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    return items.every(isTaskStatus) ? [...items].sort((a, b) => a.id - b.id) : items;
  }
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => {
      if (key === "worker_id" && typeof field === "string" && WORKER_ID.test(field))
        return [key, "<host>:<port>"];
      if (key === "trace" && typeof field === "string" && field !== "") return [key, "<trace>"];
      if (key === "message" && typeof field === "string")
        return [key, field.replace(/location='[^']*'/g, "location='<plugin dir>'")];
      return [key, normalize(field)];
    }),
  );
}

interface Validation {
  name: string;
  error_count: number;
  configs: Array<{
    definition: { name: string; required: boolean };
    value: { name: string; value: string | null; errors: string[]; recommended_values: string[] } | null;
  }>;
}

/**
 * What a validate answer says that the provider reads, over the keys the emulator models: the error count,
 * the keys with errors in Connect's order, and for each key the request sent, how it is listed (or that it
 * is not: Connect lists only keys a plugin defines). A real worker lists every key Connect and the plugin
 * define; the emulator only those it models.
 */
export function validationView(answer: Answer, sent: Record<string, string>): Answer {
  if (answer.status !== 200) return { status: answer.status, body: normalize(answer.body) };
  const body = answer.body as Validation;
  const listed = new Map(body.configs.map((config) => [config.definition.name, config]));
  return {
    status: 200,
    body: {
      name: body.name,
      error_count: body.error_count,
      errors: body.configs.flatMap(({ value }) =>
        value && value.errors.length > 0 ? [[value.name, value.errors]] : [],
      ),
      sent: Object.fromEntries(
        Object.keys(sent).map((key) => {
          const config = listed.get(key);
          if (!config) return [key, "not listed"];
          const { value, recommended_values } = config.value!;
          return [key, { required: config.definition.required, value, recommended_values }];
        }),
      ),
    },
  };
}

/** Runs one sequence of requests against one target and keeps each answer, normalized, by step. */
export class Recorder {
  readonly answers: Record<string, Answer> = {};

  constructor(readonly target: RestTarget) {}

  private keep(step: string, answer: Answer): Answer {
    if (step in this.answers) throw new Error(`step "${step}" recorded twice`);
    this.answers[step] = answer;
    return answer;
  }

  async call(step: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const answer = await this.target.call(method, path, body);
    return this.keep(step, { status: answer.status, body: normalize(answer.body) });
  }

  async until(step: string, path: string, what: string, done: (answer: Answer) => boolean): Promise<Answer> {
    const answer = await this.target.until(path, what, done);
    return this.keep(step, { status: answer.status, body: normalize(answer.body) });
  }

  async validate(step: string, connectorClass: string, config: Record<string, string>): Promise<Answer> {
    const answer = await this.target.call(
      "PUT",
      `/connector-plugins/${connectorClass}/config/validate`,
      config,
    );
    return this.keep(step, validationView(answer, config));
  }
}
