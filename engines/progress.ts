/**
 * Progress of a provisioning run: plain lines on a terminal, structured JSON lines (pino) otherwise, both on
 * stderr.
 */
import pino from "pino";
import type { Progress } from "./cache";

export function createProgress(component = "engines"): Progress {
  if (process.stderr.isTTY) {
    return (message) => process.stderr.write(`[${component}] ${message}\n`);
  }
  const logger = pino({ base: { component } }, pino.destination(2));
  return (message, fields) => logger.info({ event: "provision", ...fields }, message);
}
