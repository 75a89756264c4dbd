/** Progress of a provisioning run: step lines on a terminal, `"event": "provision"` JSON lines otherwise. */
import { createProgress as createReporter } from "../common/progress";
import type { Progress } from "./cache";

export function createProgress(component = "engines"): Progress {
  const progress = createReporter({ component });
  return (message, fields) => progress.step(message, { ...fields, event: "provision" });
}
