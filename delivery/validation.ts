/** Where a zod issue is in a JSON document: `[1].name`, or `top level`. */
import type { z } from "zod";

export function issueAt(issue: z.core.$ZodIssue): string {
  const where = issue.path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join("");
  return `${where || "top level"}: ${issue.message}`;
}
