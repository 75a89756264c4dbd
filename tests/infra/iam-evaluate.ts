/**
 * IAM's evaluation of one identity policy, for the checks the tests make: an explicit Deny wins, then
 * any Allow, else the request is implicitly denied. Actions and resources match with `*` and `?`
 * wildcards (case-insensitive actions); conditions StringEquals and StringLike on request keys.
 */
export interface PolicyStatement {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}

function conditionHolds(condition: PolicyStatement["Condition"], context: Record<string, string>): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const test =
        operator === "StringEquals"
          ? (p: string) => p === actual
          : operator === "StringLike"
            ? (p: string) => wildcard(p, actual)
            : undefined;
      if (!test) throw new Error(`condition operator ${operator} is not evaluated here`);
      if (!list(expected).some(test)) return false;
    }
  }
  return true;
}

export function allowed(
  policy: PolicyDocument,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): "allow" | "deny" | "implicit" {
  const applies = (s: PolicyStatement) =>
    list(s.Action).some((a) => wildcard(a, action, true)) &&
    list(s.Resource).some((r) => wildcard(r, resource)) &&
    conditionHolds(s.Condition, context);
  if (policy.Statement.some((s) => s.Effect === "Deny" && applies(s))) return "deny";
  return policy.Statement.some((s) => s.Effect === "Allow" && applies(s)) ? "allow" : "implicit";
}
