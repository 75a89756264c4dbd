// The provider as `pulumi up` really runs it: TypeScript transpiled to CommonJS (what Pulumi's TypeScript
// runtime does), loaded by plain Node, serialized with the SDK, loaded back from the text, and driven
// against the Connect emulator. Vitest's own module transform differs, so this is checked separately.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectEmulator } from "./connect-emulator";
import { sourceInputs } from "./fixtures";

const root = resolve(__dirname, "../../..");
const sources = join(root, "connectors/connect-api");
let outDir: string;
let connect: ConnectEmulator;

// Runs in a child Node: serialize the compiled provider, load the text as Pulumi's host does, run it.
const DRIVER = `
const Module = require("node:module");
const pulumi = require("@pulumi/pulumi");
const { connectorProvider } = require("./connect-api/index.js");
(async () => {
  const { text } = await pulumi.runtime.serializeFunction(() => connectorProvider);
  const loaded = new Module("serialized-provider");
  loaded.paths = Module._nodeModulePaths(process.cwd());
  loaded._compile(text, "serialized-provider.js");
  const provider = loaded.exports.handler();
  const inputs = JSON.parse(process.argv[2]);
  const report = { requires: text.match(/require\\("[^"]+"\\)/g).sort() };
  report.check = await provider.check(inputs, inputs);
  report.created = (await provider.create(inputs)).outs;
  report.read = await provider.read(inputs.name, report.created);
  report.failure = await provider
    .create({ ...inputs, name: "cdc-broken", config: { ...inputs.config, "topic.prefix": "" } })
    .then(() => null, (err) => ({ name: err.name, message: err.message, status: err.status }));
  await provider.delete(inputs.name, report.created);
  process.stdout.write(JSON.stringify(report));
})().catch((err) => {
  process.stderr.write(String(err && err.stack));
  process.exit(1);
});
`;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "connect-api-cjs-"));
  mkdirSync(join(outDir, "connect-api"));
  for (const file of readdirSync(sources).filter((f) => f.endsWith(".ts"))) {
    const { outputText } = ts.transpileModule(readFileSync(join(sources, file), "utf8"), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    });
    writeFileSync(join(outDir, "connect-api", file.replace(/\.ts$/, ".js")), outputText);
  }
  writeFileSync(join(outDir, "driver.js"), DRIVER);
  connect = await ConnectEmulator.start();
});
afterAll(async () => {
  await connect.stop();
  rmSync(outDir, { recursive: true, force: true });
});

describe("the serialized provider, compiled to CommonJS", () => {
  it("serializes with only package requires, and manages a connector after loading", async () => {
    const inputs = sourceInputs(connect.url);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(outDir, "driver.js"), JSON.stringify(inputs)],
      {
        cwd: root,
        // The compiled files live outside the repository; packages resolve from its node_modules.
        env: { ...process.env, NODE_PATH: join(root, "node_modules") },
      },
    );
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report["requires"]).toEqual(['require("axios")', 'require("node:https")']);
    expect(report["check"]).toEqual({ inputs, failures: [] });
    expect(report["created"]).toMatchObject({
      name: "cdc-source",
      connectorState: "RUNNING",
      workerIds: ["10.0.1.10:8083"],
    });
    expect(report["read"]).toMatchObject({ id: "cdc-source", props: { connectorState: "RUNNING" } });
    // Connect's validate rejects the config before any PUT …/config.
    expect(report["failure"]).toEqual({
      name: "ConnectorConfigError",
      message:
        'Kafka Connect connector "cdc-broken": Connect rejected the config: ' +
        "PUT /connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate reported 2 error(s); " +
        "nothing was applied (no PUT /connectors/cdc-broken/config), the connector is left as it was:\n" +
        "  topic.prefix: The 'topic.prefix' value is invalid: A value is required; The 'topic.prefix' value is " +
        "invalid:  has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)",
    });
    expect(connect.configOf("cdc-broken")).toBeUndefined();
    expect(connect.configOf("cdc-source")).toBeUndefined();
  });
});
