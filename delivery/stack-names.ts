/**
 * Stack naming: `dev` and `prod` are long-lived, a review stack is `pr-<number>` for the pull
 * request that owns it. The workflows and the sweep recognise review stacks by this name alone.
 */

import { UsageError } from "./errors";

/** A Pulumi stack name, optionally qualified (`org/stack`, `org/project/stack`). */
const STACK_NAME = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/){0,2}[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const REVIEW_STACK = /^pr-([1-9][0-9]*)$/;

export const REVIEW_STACK_TEMPLATE = "Pulumi.pr.yaml";
/** The pull-request label that asks for a review stack (the workflows use the same). */
export const REVIEW_STACK_LABEL = "review-stack";

/** Throws a message naming the problem when `name` is not a usable stack name. */
export function checkStackName(name: string): string {
  if (!STACK_NAME.test(name)) {
    throw new UsageError(
      `stack name ${JSON.stringify(name)} is not valid: start with a letter or digit, then letters, digits, "-", "_" or "."; optionally prefixed by "org/"`,
    );
  }
  return name;
}

/** The unqualified part of a stack name: `org/cdc-pipeline/pr-12` → `pr-12`. */
export function shortStackName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

/** The pull request a review stack belongs to, or undefined for any other stack. */
export function reviewStackPullRequest(name: string): number | undefined {
  const match = REVIEW_STACK.exec(shortStackName(name));
  return match ? Number(match[1]) : undefined;
}

/** The stack file Pulumi reads a stack's config from (`Pulumi.<stack>.yaml`, unqualified name). */
export function stackFileName(name: string): string {
  return `Pulumi.${shortStackName(name)}.yaml`;
}
