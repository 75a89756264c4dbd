// An EventBridge event-pattern matcher for the operators the stack's rules use (AWS, "Event
// patterns" and "Content filtering"): exact values, `prefix`, `anything-but`, `exists` and `$or`.
// Arrays in an event are flattened, as EventBridge does: a field matches when any value does.
// Any other operator throws, so a pattern the matcher does not understand cannot pass a test.

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every value at `key` under `nodes`, with arrays flattened. */
function valuesAt(nodes: Node[], key: string): unknown[] {
  const flatten = (v: unknown): unknown[] =>
    v === undefined ? [] : Array.isArray(v) ? v.flatMap(flatten) : [v];
  return nodes.flatMap((n) => flatten(n[key]));
}

function matchesValue(matcher: unknown, values: unknown[]): boolean {
  if (!isNode(matcher)) return values.some((v) => v === matcher);
  const [operator, ...others] = Object.keys(matcher);
  if (others.length > 0) throw new Error(`one operator per matcher: ${JSON.stringify(matcher)}`);
  const operand = matcher[operator as string];
  switch (operator) {
    case "prefix":
      return values.some((v) => typeof v === "string" && v.startsWith(operand as string));
    case "anything-but": {
      if (isNode(operand)) throw new Error(`anything-but with an operator: ${JSON.stringify(matcher)}`);
      const excluded = Array.isArray(operand) ? operand : [operand];
      return values.some((v) => !excluded.includes(v));
    }
    case "exists":
      return values.length > 0 === operand;
    default:
      throw new Error(`operator the matcher does not know: ${operator}`);
  }
}

function matchesAt(pattern: Node, nodes: Node[]): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === "$or") return (sub as Node[]).some((alternative) => matchesAt(alternative, nodes));
    if (Array.isArray(sub)) return sub.some((matcher) => matchesValue(matcher, valuesAt(nodes, key)));
    if (isNode(sub)) return matchesAt(sub, valuesAt(nodes, key).filter(isNode));
    throw new Error(`pattern values are lists or objects: ${key}: ${JSON.stringify(sub)}`);
  });
}

/** Whether `event` matches the EventBridge `pattern`. */
export function matchesPattern(pattern: object, event: object): boolean {
  return matchesAt(pattern as Node, [event as Node]);
}
