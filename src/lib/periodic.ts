/** A job run every so often, and on demand, one run at a time. */
export interface Periodic<T> {
  /** Runs the job after the run in progress, if any; a failed run does not stop the next. */
  run(): Promise<T>;
  /** True once stop() was called: a run in progress should end at its next step. */
  readonly stopped: boolean;
  /** Stops the timer and waits for the run in progress. */
  stop(): Promise<void>;
}

/**
 * Starts `work` every `everyMs` after the previous run ends (null: only when `run()` is called).
 * Runs are chained, so one job never has two runs at once. A failure goes to `onError` and the
 * job goes on. The timer does not keep the process alive.
 */
export function startPeriodic<T>(
  work: () => Promise<T>,
  { everyMs, onError }: { everyMs: number | null; onError: (error: unknown) => void },
): Periodic<T> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  function run(): Promise<T> {
    const next = running.then(
      () => work(),
      () => work(),
    );
    running = next;
    return next;
  }

  async function tick() {
    try {
      await run();
    } catch (error) {
      onError(error);
    }
    if (!stopped) schedule();
  }

  function schedule() {
    if (everyMs === null) return;
    timer = setTimeout(tick, everyMs);
    timer.unref();
  }

  schedule();
  return {
    run,
    get stopped() {
      return stopped;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => {});
    },
  };
}
