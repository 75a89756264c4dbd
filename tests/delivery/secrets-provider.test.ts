// Which secrets provider a new stack gets, per backend (delivery/secrets-provider.ts).
import { describe, expect, it } from "vitest";
import { CommandError, UsageError } from "../../delivery/errors";
import { backendKind, secretsProviderArgs } from "../../delivery/secrets-provider";

const KMS = "awskms://alias/pulumi?region=eu-west-1";

describe("backendKind", () => {
  it.each([
    ["file:///home/me/.pulumi-state", "local"],
    ["s3://state?region=eu-west-1", "bucket"],
    ["gs://state", "bucket"],
    ["azblob://state", "bucket"],
    ["https://api.pulumi.com", "cloud"],
  ])("%s is %s", (url, kind) => {
    expect(backendKind(url)).toBe(kind);
  });
});

describe("secretsProviderArgs", () => {
  it.each([
    ["s3://state", KMS, {}, ["--secrets-provider", KMS]],
    ["s3://state", KMS, { secretsprovider: KMS, encryptedkey: "AQ" }, ["--secrets-provider", KMS]],
    ["file:///state", undefined, {}, []],
    ["file:///state", "passphrase", { encryptionsalt: "v1:x" }, ["--secrets-provider", "passphrase"]],
    ["https://api.pulumi.com", undefined, {}, []],
    ["https://api.pulumi.com", KMS, {}, ["--secrets-provider", KMS]],
  ])("%s with %s and %j: %j", (url, requested, file, expected) => {
    expect(secretsProviderArgs("dev", url, requested, file)).toEqual(expected);
  });

  it.each([
    [
      "s3://state",
      undefined,
      {},
      UsageError,
      "the backend s3://state is a bucket: create dev with a KMS key",
    ],
    [
      "s3://state",
      "passphrase",
      {},
      UsageError,
      "--secrets-provider passphrase: the backend s3://state is a bucket",
    ],
    [
      "s3://state",
      "default",
      {},
      UsageError,
      "--secrets-provider default: the backend s3://state is a bucket",
    ],
    [
      "s3://state",
      KMS,
      { encryptionsalt: "v1:x" },
      CommandError,
      "pulumi stack change-secrets-provider --stack dev",
    ],
    [
      "file:///state",
      "kms",
      {},
      UsageError,
      "--secrets-provider kms: expected passphrase, default or a KMS URL",
    ],
  ])("refuses %s with %s and %j", (url, requested, file, type, message) => {
    const call = () => secretsProviderArgs("dev", url, requested, file);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});
