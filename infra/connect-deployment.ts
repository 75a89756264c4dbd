// How ECS rolls the Connect workers: the deployment bounds of the service and ECS's rounding of
// them (docs/deploy.md, "Rolling the Connect workers").

/** The ECS deployment bounds of the Connect service (percent of the desired count). */
export interface DeploymentBounds {
  minimumHealthyPercent: number;
  maximumPercent: number;
}

/**
 * Every worker's replacement starts before any old worker stops: one group change when the new
 * workers join, one when the old ones leave, whatever the count (replacing one worker at a time
 * costs two rebalances per worker), and a new version that never gets healthy never stops the old
 * workers (the circuit breaker rolls back). docs/deploy.md, "Rolling the Connect workers".
 */
export const CONNECT_DEPLOYMENT: DeploymentBounds = { minimumHealthyPercent: 100, maximumPercent: 200 };

/**
 * What ECS may do at the start of a deployment of `count` tasks under `bounds`: start up to
 * `start` new tasks (it rounds the maximum down) and stop up to `stop` old ones (it rounds the
 * healthy minimum up). Both 0 is a deployment that can never progress.
 */
export function deploymentRoom(count: number, bounds: DeploymentBounds): { start: number; stop: number } {
  return {
    start: Math.max(0, Math.floor((count * bounds.maximumPercent) / 100) - count),
    stop: Math.max(0, count - Math.ceil((count * bounds.minimumHealthyPercent) / 100)),
  };
}
