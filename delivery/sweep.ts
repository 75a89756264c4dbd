/**
 * The review-stack sweep: which `pr-<n>` stacks to destroy because their pull request is closed
 * or no longer asks for a stack. The close event can be missed (a failed teardown, a workflow
 * outage), so a scheduled job compares the stacks that exist with the pull requests that are open.
 */
import { z } from "zod";
import { reviewStackPullRequest, shortStackName } from "./stack-names";
import { issueAt } from "./validation";

/** One entry of `pulumi stack ls --json`. */
const stackSummarySchema = z.object({
  name: z.string().min(1),
  updateInProgress: z.boolean().optional(),
  lastUpdate: z.string().optional(),
  resourceCount: z.number().optional(),
});
export type StackSummary = z.infer<typeof stackSummarySchema>;

export interface OpenPullRequest {
  number: number;
  labels: string[];
}

export interface SweepDecision {
  stack: string;
  pullRequest: number;
  action: "destroy" | "keep" | "wait";
  reason: string;
}

/** Parses `pulumi stack ls --json` output; `source` names it in errors. */
export function parseStackList(text: string, source: string): StackSummary[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${source}: not JSON (expected the output of \`pulumi stack ls --json\`): ${(error as Error).message}`,
    );
  }
  const parsed = z.array(stackSummarySchema).safeParse(json);
  if (!parsed.success) throw new Error(`${source}: ${issueAt(parsed.error.issues[0]!)}`);
  return parsed.data;
}

/**
 * A decision for every review stack: destroy when its pull request is not open or lost the label;
 * wait while an update runs on it (destroying would fail on the lock; the next sweep retries).
 * Other stacks (dev, prod, anything not named `pr-<n>`) are never touched.
 */
export function planSweep(stacks: StackSummary[], open: OpenPullRequest[], label: string): SweepDecision[] {
  const openByNumber = new Map(open.map((pr) => [pr.number, pr]));
  const decisions: SweepDecision[] = [];
  for (const summary of stacks) {
    const pullRequest = reviewStackPullRequest(summary.name);
    if (pullRequest === undefined) continue;
    const stack = shortStackName(summary.name);
    const pr = openByNumber.get(pullRequest);
    const wanted = pr?.labels.includes(label) ?? false;
    if (wanted) {
      decisions.push({
        stack,
        pullRequest,
        action: "keep",
        reason: `#${pullRequest} is open with label ${label}`,
      });
    } else if (summary.updateInProgress) {
      decisions.push({ stack, pullRequest, action: "wait", reason: "an update is in progress" });
    } else {
      const reason = pr ? `#${pullRequest} no longer has label ${label}` : `#${pullRequest} is not open`;
      decisions.push({ stack, pullRequest, action: "destroy", reason });
    }
  }
  return decisions.sort((a, b) => a.pullRequest - b.pullRequest);
}
