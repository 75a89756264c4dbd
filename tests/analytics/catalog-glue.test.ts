/**
 * A column an application's migration adds reaches the Glue table and the Athena views with no step by
 * anyone: moto's Glue holds the tables and views exactly as the dev stack declares them (its inputs
 * under Pulumi mocks); after `ALTER TABLE … ADD COLUMN`, the capture and a job run with
 * `--glue-database`, the Glue columns equal the DESCRIBE of the job's files and the views select them,
 * as the stack would declare them once the definition lists the column. A run with nothing to add
 * writes nothing; a denied or unreachable Glue leaves the run's data committed and exits 3, naming it.
 */
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetTableCommand,
  GlueClient,
  type Table,
  type TableInput,
} from "@aws-sdk/client-glue";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { athenaViews, glueTypeOf, prestoViewText } from "../../common/catalog";
import { PRODUCTS_COLUMNS } from "../../connectors/database";
import { createProgress, startMoto, type MotoServer } from "../../engines";
import { scd2CatalogColumns } from "../../infra/catalog/columns";
import { duckQuery } from "../../local/bucket";
import { readStackFile, REGION, runStack, type Recorded } from "../infra/harness";
import { jsonLines, runCli, type CliResult } from "./cli/cli-helpers";
import { captureAndBuild, CAPTURED, type CapturedRun } from "./helpers/captured-run";

const DATABASE = "cdc_dev";
const CREDENTIALS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };
let moto: MotoServer;
let glue: GlueClient;
let run: CapturedRun;
const scratch: string[] = [];

/** The AWS provider's CreateTable input for a recorded aws:glue/catalogTable:CatalogTable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function tableInput(i: Record<string, any>): TableInput {
  const columns = (list?: { name: string; type: string; comment?: string }[]) =>
    list?.map((c) => ({ Name: c.name, Type: c.type, ...(c.comment ? { Comment: c.comment } : {}) }));
  const sd = i.storageDescriptor;
  return {
    Name: i.name,
    Description: i.description,
    TableType: i.tableType,
    Parameters: i.parameters,
    PartitionKeys: columns(i.partitionKeys),
    ViewOriginalText: i.viewOriginalText,
    ViewExpandedText: i.viewExpandedText,
    StorageDescriptor: {
      Location: sd.location,
      InputFormat: sd.inputFormat,
      OutputFormat: sd.outputFormat,
      SerdeInfo: sd.serDeInfo && { SerializationLibrary: sd.serDeInfo.serializationLibrary },
      Columns: columns(sd.columns),
    },
  };
}

const getTable = async (name: string): Promise<Table> =>
  (await glue.send(new GetTableCommand({ DatabaseName: DATABASE, Name: name }))).Table!;
const columnsOf = (table: Table) => table.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type]);
const versions = async () =>
  Object.fromEntries(
    await Promise.all(
      ["products", "products_current", "products_history", "users", "users_current", "users_history"].map(
        async (name) => [name, (await getTable(name)).VersionId],
      ),
    ),
  );

/** The job as the SCD2 task runs it: the captured change files, a Glue database, Glue at `endpoint`. */
function runJob(output: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(
    [
      "run",
      ...["--source", run.sourceDir, "--output", output, "--tables", CAPTURED.join(",")],
      ...["--glue-database", DATABASE],
    ],
    {
      env: {
        AWS_REGION: REGION,
        AWS_ENDPOINT_URL_GLUE: moto.endpoint,
        AWS_EC2_METADATA_DISABLED: "true",
        ...CREDENTIALS,
        ...env,
      },
    },
  );
}

const events = (result: CliResult, event: string) =>
  jsonLines(result.stdout).filter((l) => l.event === event);

function freshOutput(): string {
  const dir = mkdtempSync(join(tmpdir(), "cdc-catalog-glue-"));
  scratch.push(dir);
  return join(dir, "scd2");
}

beforeAll(async () => {
  moto = await startMoto(createProgress("moto"));
  glue = new GlueClient({
    endpoint: moto.endpoint,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  const stack = await runStack("dev", readStackFile("dev"));
  const declared: Recorded[] = stack.ofType("aws:glue/catalogTable:CatalogTable");
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: DATABASE } }));
  for (const table of declared)
    await glue.send(new CreateTableCommand({ DatabaseName: DATABASE, TableInput: tableInput(table.inputs) }));
  run = await captureAndBuild({ phases: 1, phaseMs: 800, rate: 40, seed: 20_261_209 });
}, 300_000);

afterAll(async () => {
  await run?.close();
  await moto?.stop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("before any schema change", () => {
  it("the stack's declaration is what the job's files hold: a run with --glue-database writes nothing", async () => {
    const result = await runJob(run.scd2Dir);
    expect([result.code, result.stderr]).toEqual([0, ""]);
    expect(events(result, "catalog-updated")).toEqual([]);
    expect(await versions()).toEqual({
      products: "1",
      products_current: "1",
      products_history: "1",
      users: "1",
      users_current: "1",
      users_history: "1",
    });
  });
});

describe("after ALTER TABLE commerce.products ADD COLUMN colour", () => {
  beforeAll(async () => {
    // The capture and a run without the catalog option: the files gain the column, Glue does not.
    await run.next(async (admin) => {
      await admin.query("ALTER TABLE commerce.products ADD COLUMN colour text");
      await admin.query("ALTER TABLE truth.products ADD COLUMN colour text");
      return (await admin.query("UPDATE commerce.products SET colour = 'red' WHERE id % 3 = 0")).rowCount!;
    });
  }, 240_000);

  it("Glue denying UpdateTable: the run's data is committed, the catalog failure is named, exit 3", async () => {
    const iam = (action: string, params: Record<string, string>) =>
      fetch(moto.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/iam/aws4_request",
        },
        body: new URLSearchParams({ Action: action, Version: "2010-05-08", ...params }),
      }).then(async (r) => {
        expect(r.status).toBe(200);
        return r.text();
      });
    await iam("CreateUser", { UserName: "scd2-task" });
    await iam("PutUserPolicy", {
      UserName: "scd2-task",
      PolicyName: "read-only-catalog",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["glue:GetTable"], Resource: "*" }],
      }),
    });
    const keys = await iam("CreateAccessKey", { UserName: "scd2-task" });
    const accessKeyId = /<AccessKeyId>(.+?)<\/AccessKeyId>/.exec(keys)![1]!;
    const secret = /<SecretAccessKey>(.+?)<\/SecretAccessKey>/.exec(keys)![1]!;
    const output = freshOutput();
    const auth = (count: string) =>
      fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: "POST", body: count });
    expect((await auth("0")).status).toBe(200);
    let result: CliResult;
    try {
      result = await runJob(output, { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secret });
    } finally {
      expect((await auth("inf")).status).toBe(200);
    }
    expect(result.code).toBe(3);
    const done = events(result, "run-done");
    expect(done).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(output, "_state", "manifest.json"), "utf8"));
    expect(manifest.tables["commerce.products"].columns.map((c: { name: string }) => c.name)).toContain(
      "colour",
    );
    expect(existsSync(join(output, "views.sql"))).toBe(true);
    const [failed] = events(result, "catalog-failed");
    expect(failed!.level).toBe(50);
    // moto answers an IAM denial with an XML body even for JSON services like Glue, which the SDK cannot
    // parse: the status names the denial (AWS itself sends AccessDeniedException as JSON).
    expect(failed!.msg).toMatch(
      /^the run's data is committed, but the Glue catalog is not up to date: commerce\.products: glue:UpdateTable on cdc_dev\.products failed \(HTTP 403\): /,
    );
    expect(failed!.problems).toHaveLength(1);
    expect((await getTable("products")).VersionId).toBe("1");
  });

  it("Glue unreachable: the run's data is committed, the endpoint is named, exit 3", async () => {
    const output = freshOutput();
    // A port nothing listens on: one the system just handed out and took back.
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, "close");
    const result = await runJob(output, { AWS_ENDPOINT_URL_GLUE: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(3);
    expect(events(result, "run-done")).toHaveLength(1);
    expect(existsSync(join(output, "_state", "manifest.json"))).toBe(true);
    const [failed] = events(result, "catalog-failed");
    expect(failed!.problems).toEqual([
      `commerce.products: glue:GetTable on cdc_dev.products failed: connect ECONNREFUSED 127.0.0.1:${port}`,
      `commerce.users: glue:GetTable on cdc_dev.users failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
    expect((await getTable("products")).VersionId).toBe("1");
  });

  it("a run with --glue-database adds the column to the Glue table: its columns equal the files' DESCRIBE", async () => {
    const result = await runJob(run.scd2Dir);
    expect([result.code, result.stderr]).toEqual([0, ""]);
    expect(events(result, "catalog-updated")).toEqual([
      expect.objectContaining({
        table: "commerce.products",
        glueTable: "cdc_dev.products",
        added: ["colour"],
        views: ["products_current", "products_history"],
      }),
    ]);
    const described = await duckQuery(
      `DESCRIBE SELECT * FROM read_parquet('${run.scd2Dir}/products/*/*.parquet')`,
    );
    const fromFiles = described.map((c) => [
      String(c.column_name).toLowerCase(),
      glueTypeOf(String(c.column_type)),
    ]);
    expect(fromFiles.map(([name]) => name)).toContain("colour");
    const table = await getTable("products");
    expect(columnsOf(table)).toEqual(fromFiles);
    // Everything else the stack declared is kept.
    expect([table.PartitionKeys, table.Parameters?.["projection.file_set.values"]]).toEqual([
      [{ Name: "file_set", Type: "string", Comment: "history or current" }],
      "history,current",
    ]);
    expect(await versions()).toEqual({
      products: "2",
      products_current: "2",
      products_history: "2",
      users: "1",
      users_current: "1",
      users_history: "1",
    });
  });

  it("rewrites the views as the stack declares them once the definition lists the column", async () => {
    const columns = scd2CatalogColumns({
      qualifiedName: "commerce.products",
      columns: [...PRODUCTS_COLUMNS, { name: "colour", type: "text", nullable: true }],
    });
    for (const view of athenaViews(DATABASE, "products", columns)) {
      const stored = await getTable(view.name);
      expect(stored.ViewOriginalText).toBe(prestoViewText(DATABASE, view, columns));
      expect(columnsOf(stored)).toEqual(columns.map((c) => [c.name, c.glueType]));
      const json = JSON.parse(
        Buffer.from(/^\/\* Presto View: (.+) \*\/$/.exec(stored.ViewOriginalText!)![1]!, "base64").toString(),
      );
      expect(json.originalSql).toContain(`"external_id", "colour", "effective_from"`);
    }
  });

  it("a second run has nothing to add and writes nothing", async () => {
    const before = await getTable("products");
    const result = await runJob(run.scd2Dir);
    expect([result.code, result.stderr]).toEqual([0, ""]);
    expect(events(result, "catalog-updated")).toEqual([]);
    const after = await getTable("products");
    expect([after.VersionId, after.UpdateTime]).toEqual([before.VersionId, before.UpdateTime]);
    expect((await getTable("products_current")).VersionId).toBe("2");
  });
});
