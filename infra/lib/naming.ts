// Names and tags shared by every component, so resources of one stack are findable together.
import * as pulumi from "@pulumi/pulumi";

/** Tag that marks resources of ephemeral stacks; the policy pack relaxes data protection on them. */
export const EPHEMERAL_TAG = "cdc:ephemeral";

/** Tags every taggable resource carries (merged with the stack's `tags` config). */
export function standardTags(extra: Record<string, string>, ephemeral: boolean): Record<string, string> {
  return {
    ...extra,
    "cdc:project": pulumi.getProject(),
    "cdc:stack": pulumi.getStack(),
    [EPHEMERAL_TAG]: String(ephemeral),
  };
}

/**
 * A physical name for services that cap name length (RDS identifiers 63, MSK cluster names 64).
 * Lowercase, alphanumerics and dashes, trimmed to `maxLength` without a trailing dash.
 */
export function physicalName(parts: string[], maxLength = 32): string {
  const joined = parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-");
  return joined.slice(0, maxLength).replace(/^-+|-+$/g, "");
}
