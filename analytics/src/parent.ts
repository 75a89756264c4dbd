/**
 * npx and `npm exec` run the CLI through `sh -c`; on SIGTERM npm ends (and its shell with it) without
 * passing the signal on, so the job would go on and commit after the user stopped it. When this process
 * was started through npm (npm sets `npm_command` for what it runs), the parent going away (this process
 * is re-parented: `process.ppid` changes) stops the run like SIGTERM. A run started any other way (the
 * image's entrypoint, nohup, a scheduler) is left to its own signals.
 */
export function launchedThroughNpm(env: NodeJS.ProcessEnv): boolean {
  return env.npm_command !== undefined && env.npm_command !== "";
}

/**
 * Calls `onGone` once, with the old parent's pid, when `currentParent()` stops returning the parent it
 * returned at first; checks every `intervalMs`. Returns a function that stops watching. The timer does
 * not keep the process alive.
 */
export function watchParent(
  onGone: (parentPid: number) => void,
  currentParent: () => number = () => process.ppid,
  intervalMs = 250,
): () => void {
  const parent = currentParent();
  const timer = setInterval(() => {
    if (currentParent() === parent) return;
    clearInterval(timer);
    onGone(parent);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
