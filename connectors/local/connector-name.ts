/**
 * The rule for a connector's name, in a module of its own: the offset file's path is built from the name
 * in code that Pulumi serializes with the NewTableSnapshots provider (connectors/signals/request.ts), and
 * a serialized provider takes every module it reaches along (config validation would bring zod).
 */

/**
 * What the runtime cannot take in a connector name, as a sentence naming it: ISO control characters,
 * which Kafka Connect refuses too, and "/", which Connect takes but which would lead the connector's
 * offset file (`<bucket-root>/.connect-offsets/<role>-<name>.json`) into another folder, or out of the
 * bucket root.
 */
export function connectorNameProblem(name: string): string | undefined {
  const problem = (what: string) => `connector name ${JSON.stringify(name)} ${what}`;
  // eslint-disable-next-line no-control-regex -- the control characters are what is looked for
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name))
    return problem("contains control characters (Kafka Connect refuses them)");
  if (name.includes("/"))
    return problem(
      'contains "/": the local runtime names the connector\'s offset file after it, in one folder',
    );
  return undefined;
}
