/**
 * `s3.bucket.name` follows S3's naming rules, and object keys have no `..` segment: the local runtime
 * maps the bucket to a folder under the bucket root and keys to paths in it.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildSinkConnector, ConnectorSettingsError } from "../../../connectors/config";
import { parseSinkConfig, startConnectorRuntime } from "../../../connectors/local";
import { captureSetup, quietLogger, useHarness } from "./harness";

const sink = (bucket: string) => ({
  ...buildSinkConnector({ bucket: "cdc-bucket", region: "eu-west-1" }).config,
  name: "sink",
  "s3.bucket.name": bucket,
});

const SHAPE =
  "must be 3-63 characters of lower-case letters, digits, '.' and '-', starting and ending with a letter or digit";
const RESERVED =
  "must not use a reserved prefix (xn--, sthree-, amzn-s3-demo-) or suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)";

describe("s3.bucket.name", () => {
  it.each(["abc", "cdc-bucket", "my.bucket.01", "0ab", "a".repeat(63), "a-b.c-d"])("accepts %j", (bucket) => {
    expect(parseSinkConfig(sink(bucket)).bucket).toBe(bucket);
    expect(buildSinkConnector({ bucket, region: "eu-west-1" }).config["s3.bucket.name"]).toBe(bucket);
  });

  it.each([
    ["../../x", SHAPE],
    ["..", SHAPE],
    ["a/b", SHAPE],
    ["/abs", SHAPE],
    ["ab", SHAPE],
    ["a".repeat(64), SHAPE],
    ["", SHAPE],
    ["Upper", SHAPE],
    ["under_score", SHAPE],
    ["-start", SHAPE],
    ["end.", SHAPE],
    ["a..b", "must not contain '..'"],
    ["192.168.1.1", "must not look like an IP address"],
    ["xn--bucket", RESERVED],
    ["sthree-data", RESERVED],
    ["amzn-s3-demo-bucket", RESERVED],
    ["data-s3alias", RESERVED],
    ["data--ol-s3", RESERVED],
    ["data.mrap", RESERVED],
    ["data--x-s3", RESERVED],
    ["data--table-s3", RESERVED],
  ])("refuses %j: %s", (bucket, problem) => {
    expect(() => parseSinkConfig(sink(bucket))).toThrow(
      `sink: config key "s3.bucket.name" = ${JSON.stringify(bucket)} ${problem}`,
    );
    const built = (() => {
      try {
        return buildSinkConnector({ bucket, region: "eu-west-1" });
      } catch (err) {
        return err;
      }
    })();
    expect(built).toBeInstanceOf(ConnectorSettingsError);
    expect((built as ConnectorSettingsError).issues).toEqual([{ path: "bucket", message: problem }]);
  });
});

describe("object keys with a '..' segment", () => {
  const base = { ...sink("cdc-bucket"), "topics.dir": "cdc_data" };

  it.each([
    [{ "topics.dir": "../x" }, "../x/topic/partition=0/topic+0+0"],
    [{ "topics.dir": "a/../../x" }, "a/../../x/topic/partition=0/topic+0+0"],
    [{ "directory.delim": "/../" }, "cdc_data/../topic/../partition=0/../topic+0+0"],
    [{ "file.delim": "/../../" }, "cdc_data/topic/partition=0/topic/../../0/../../0"],
    [{ "topics.dir": ".", "directory.delim": "./" }, "../topic./partition=0./topic+0+0"],
  ])("refuses %j", (override, key) => {
    expect(() => parseSinkConfig({ ...base, ...override })).toThrow(
      `sink: config keys "topics.dir", "directory.delim" and "file.delim" make object keys with a ".." segment (${key}), which would leave the bucket folder locally`,
    );
  });

  it.each([{ "topics.dir": "a..b/c" }, { "directory.delim": "_" }, { "file.delim": "." }])(
    "accepts %j",
    (override) => {
      expect(parseSinkConfig({ ...base, ...override }).name).toBe("sink");
    },
  );
});

describe("a bucket name that climbs out of the bucket root", () => {
  const h = useHarness();

  it("is refused before anything is written, inside or outside the root", async () => {
    await h.db.query("CREATE TABLE public.escape (id int PRIMARY KEY)");
    await h.db.query("INSERT INTO public.escape SELECT generate_series(1, 3)");
    // flush.size 1: every snapshot row would be a file at once, under <root>/../../escaped.
    const setup = await captureSetup(h, ["public.escape"], {
      sink: { "s3.bucket.name": "../../escaped", "flush.size": "1" },
    });
    const outer = join(h.root, "outer");
    const bucketRoot = join(outer, "a", "root");
    mkdirSync(bucketRoot, { recursive: true });
    const started = startConnectorRuntime({
      source: setup.source,
      sink: setup.sink,
      bucketRoot,
      logger: quietLogger,
    });
    // Today's runtime would start and write; stop it so the assertion below sees what it wrote.
    const outcome = await started.then(
      async (runtime) => {
        await runtime.stop();
        return "started";
      },
      (err: Error) => err.message,
    );
    expect(outcome).toBe(`${setup.sink.name}: config key "s3.bucket.name" = "../../escaped" ${SHAPE}`);
    expect(readdirSync(outer, { recursive: true }).sort()).toEqual(["a", join("a", "root")]);
  });
});
