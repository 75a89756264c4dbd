/**
 * Which secrets provider a new stack gets, from the backend that holds its state. Pulumi Cloud
 * encrypts with its own keys; a bucket backend (S3, and the other object stores) gets a KMS key,
 * so CI and every person read the stack's secrets with their cloud credentials and no shared
 * passphrase; the passphrase provider is for a local `file://` backend. A stack created by hand
 * with `pulumi stack init` on a bucket falls back to the passphrase and CI then fails on
 * "passphrase must be set": `stack:init` creates every stack, so this is decided in one place.
 */
import { CommandError, UsageError } from "./errors";

export type BackendKind = "cloud" | "bucket" | "local";

/** Key-management providers pulumi accepts (`pulumi stack change-secrets-provider --help`). */
const KMS_PROVIDER = /^(awskms|azurekeyvault|gcpkms|hashivault):\/\/\S+$/;

/** The kind of backend a `pulumi whoami --json` URL names. */
export function backendKind(url: string): BackendKind {
  if (/^file:\/\//.test(url)) return "local";
  if (/^(s3|gs|azblob):\/\//.test(url)) return "bucket";
  return "cloud";
}

/**
 * The `--secrets-provider` arguments for `pulumi stack select --create`, or an error saying what to
 * set. `fileSecrets` are the secrets settings already in the stack's file (an existing stack's).
 */
export function secretsProviderArgs(
  stack: string,
  backendUrl: string,
  requested: string | undefined,
  fileSecrets: Record<string, unknown>,
): string[] {
  const kind = backendKind(backendUrl);
  if (kind === "bucket") {
    if ("encryptionsalt" in fileSecrets && !("secretsprovider" in fileSecrets)) {
      throw new CommandError(
        `Pulumi.${stack}.yaml holds a passphrase salt, but the backend ${backendUrl} is a bucket, where stacks use a KMS key ` +
          `(CI has no passphrase): move the stack to KMS with \`pulumi stack change-secrets-provider --stack ${stack} awskms://alias/<alias>?region=<region>\``,
      );
    }
    if (!requested || !KMS_PROVIDER.test(requested)) {
      throw new UsageError(
        `${requested ? `--secrets-provider ${requested}: ` : ""}the backend ${backendUrl} is a bucket: create ${stack} with a KMS key, ` +
          "--secrets-provider awskms://alias/<alias>?region=<region> (or PULUMI_SECRETS_PROVIDER); the passphrase provider is for a local file:// backend",
      );
    }
  }
  if (requested && requested !== "passphrase" && requested !== "default" && !KMS_PROVIDER.test(requested)) {
    throw new UsageError(
      `--secrets-provider ${requested}: expected passphrase, default or a KMS URL such as awskms://alias/<alias>?region=<region>`,
    );
  }
  return requested ? ["--secrets-provider", requested] : [];
}
