// Failures a user can fix (a bad setting, a port in use, a database folder held by another process)
// end a command with one line naming the problem, not a stack trace.

/** An error whose message is the whole story for the person starting the process. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** For a command's top level: a StartupError becomes one line on stderr and exit code 1; anything else is rethrown. */
export function exitOnStartupError(error: unknown): never {
  if (error instanceof StartupError) {
    console.error(`customer-graph: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
