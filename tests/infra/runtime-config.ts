/** Stack config as the Pulumi engine hands it to the program: lists and maps as JSON text. */
export function runtimeConfig(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}
