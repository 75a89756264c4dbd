// The emulator itself follows cdc-contract.md §5, so the provider tests exercise documented behaviour.
import { describe, expect, it } from "vitest";
import { ConnectEmulator } from "./connect-emulator";
import { SOURCE_CONFIG, useConnectEmulator } from "./fixtures";

const emulator = useConnectEmulator();

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${emulator().url}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

describe("Connect REST emulator", () => {
  it("PUT config answers 201 then 200, GET returns placeholders verbatim, DELETE 204 then 404", async () => {
    expect((await call("PUT", "/connectors/src/config", SOURCE_CONFIG)).status).toBe(201);
    expect((await call("PUT", "/connectors/src/config", SOURCE_CONFIG)).status).toBe(200);
    expect(await call("GET", "/connectors/src/config")).toEqual({
      status: 200,
      body: { ...SOURCE_CONFIG, name: "src" },
    });
    expect(await call("GET", "/connectors")).toEqual({ status: 200, body: ["src"] });
    expect((await call("DELETE", "/connectors/src")).status).toBe(204);
    expect(await call("GET", "/connectors/src")).toEqual({
      status: 404,
      body: { error_code: 404, message: "Connector src not found" },
    });
  });

  it("validate always answers 200 with error_count and per-field errors", async () => {
    const { "topic.prefix": _dropped, ...config } = SOURCE_CONFIG;
    const { status, body } = await call(
      "PUT",
      "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate",
      config,
    );
    expect(status).toBe(200);
    const result = body as {
      error_count: number;
      configs: Array<{ value: { name: string; errors: string[] } }>;
    };
    expect(result.error_count).toBe(1);
    expect(result.configs.find((c) => c.value.name === "topic.prefix")?.value.errors).toEqual([
      'Missing required configuration "topic.prefix" which has no default value.',
    ]);
  });

  it("pause, resume and stop change the reported states; stopped connectors have no tasks", async () => {
    await call("PUT", "/connectors/src/config", { ...SOURCE_CONFIG, "tasks.max": "2" });
    expect((await call("PUT", "/connectors/src/pause")).status).toBe(202);
    const paused = (await call("GET", "/connectors/src/status")).body as {
      connector: { state: string };
      tasks: Array<{ state: string }>;
    };
    expect([paused.connector.state, ...paused.tasks.map((t) => t.state)]).toEqual([
      "PAUSED",
      "PAUSED",
      "PAUSED",
    ]);
    await call("PUT", "/connectors/src/resume");
    const resumed = (await call("GET", "/connectors/src/status")).body as { connector: { state: string } };
    expect(resumed.connector.state).toBe("RUNNING");
    await call("PUT", "/connectors/src/stop");
    expect((await call("GET", "/connectors/src/status")).body).toMatchObject({
      connector: { state: "STOPPED" },
      tasks: [],
    });
  });

  it("changes offsets only when STOPPED, and keeps them across a delete", async () => {
    await call("PUT", "/connectors/src/config", SOURCE_CONFIG);
    emulator().setOffsets("src", [{ partition: { server: "cdc" }, offset: { lsn: 7 } }]);
    const refused = await call("DELETE", "/connectors/src/offsets");
    expect(refused.status).toBe(400);
    expect((refused.body as { message: string }).message).toMatch(/^Connectors must be in the STOPPED state/);
    await call("DELETE", "/connectors/src");
    await call("PUT", "/connectors/src/config", SOURCE_CONFIG);
    expect(await call("GET", "/connectors/src/offsets")).toEqual({
      status: 200,
      body: { offsets: [{ partition: { server: "cdc" }, offset: { lsn: 7 } }] },
    });
    await call("PUT", "/connectors/src/stop");
    expect((await call("DELETE", "/connectors/src/offsets")).status).toBe(200);
    expect((await call("GET", "/connectors/src/offsets")).body).toEqual({ offsets: [] });
  });

  it("answers 409 during a simulated rebalance, then recovers", async () => {
    emulator().rebalance(1);
    expect((await call("GET", "/connectors")).status).toBe(409);
    expect((await call("GET", "/connectors")).status).toBe(200);
  });

  it("reports tasks starting, then a FAILED task with its trace", async () => {
    let now = 0;
    const timed = await ConnectEmulator.start({ now: () => now });
    try {
      const status = async () =>
        (await fetch(`${timed.url}/connectors/src/status`)).json() as Promise<unknown>;
      timed.behave("src", { startupMs: 100, failTask: { id: 0, trace: "boom" } });
      await fetch(`${timed.url}/connectors/src/config`, {
        method: "PUT",
        body: JSON.stringify(SOURCE_CONFIG),
      });
      expect(await status()).toMatchObject({ connector: { state: "UNASSIGNED" }, tasks: [] });
      now = 50;
      expect(await status()).toMatchObject({
        connector: { state: "RUNNING" },
        tasks: [{ state: "UNASSIGNED" }],
      });
      now = 100;
      expect(await status()).toMatchObject({ tasks: [{ state: "FAILED", trace: "boom" }] });
    } finally {
      await timed.stop();
    }
  });

  it("restarts the tasks asynchronously after a config update: old tasks and task configs until then", async () => {
    let now = 0;
    const timed = await ConnectEmulator.start({ now: () => now });
    try {
      const get = async (path: string) =>
        (await fetch(`${timed.url}/connectors/src${path}`)).json() as Promise<unknown>;
      const put = (config: Record<string, string>) =>
        fetch(`${timed.url}/connectors/src/config`, { method: "PUT", body: JSON.stringify(config) });
      await put(SOURCE_CONFIG);
      timed.behave("src", { restartDelayMs: 100, failTask: { id: 0, trace: "bad new config" } });
      const updated = { ...SOURCE_CONFIG, "slot.name": "other" };
      expect((await put(updated)).status).toBe(200);
      // The new config is stored at once, but the old task still runs the old one.
      expect(await get("/config")).toEqual({ ...updated, name: "src" });
      expect(await get("/status")).toMatchObject({
        connector: { state: "RUNNING" },
        tasks: [{ state: "RUNNING" }],
      });
      expect(await get("/tasks")).toEqual([
        { id: { connector: "src", task: 0 }, config: { ...SOURCE_CONFIG, name: "src" } },
      ]);
      now = 99;
      expect(await get("/status")).toMatchObject({ tasks: [{ state: "RUNNING" }] });
      now = 100;
      expect(await get("/tasks")).toEqual([
        { id: { connector: "src", task: 0 }, config: { ...updated, name: "src" } },
      ]);
      expect(await get("/status")).toMatchObject({ tasks: [{ state: "FAILED", trace: "bad new config" }] });
    } finally {
      await timed.stop();
    }
  });

  it("rejects a config whose name differs from the URL's", async () => {
    const { status, body } = await call("PUT", "/connectors/src/config", { ...SOURCE_CONFIG, name: "other" });
    expect(status).toBe(400);
    expect(body).toEqual({
      error_code: 400,
      message: "Connector name configuration (other) doesn't match connector name in the URL (src)",
    });
  });
});
