import { ConnectorSettingsError } from "../../../connectors/config";

/** Calls `build` with `settings` (deliberately untyped: bad input) and returns the ConnectorSettingsError it throws. */
export function settingsError<S>(build: (settings: S) => unknown, settings: unknown): ConnectorSettingsError {
  try {
    build(settings as S);
  } catch (error) {
    if (error instanceof ConnectorSettingsError) return error;
    throw error;
  }
  throw new Error("expected a ConnectorSettingsError");
}
