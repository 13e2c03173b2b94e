import type { ExecutionArgs } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { HardeningCode } from './codes.js';

/** The part of the context the timeout needs: the request's deadline, which its transactions honour. */
interface Deadline {
  expire(): boolean;
  settled(): Promise<void>;
}

/**
 * Stops an operation after `ms`. A write is never both answered TIMEOUT and committed: the
 * request's transactions check the deadline right before COMMIT (and roll back once it has
 * passed), the TIMEOUT answer waits until they have, and a request with a write already committed
 * or committing is not cut but answered.
 */
export function useTimeout(ms: number): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(async (args: ExecutionArgs) => {
        const deadline = (args.contextValue as { deadline?: Deadline } | undefined)?.deadline;
        const controller = new AbortController();
        const timer = setTimeout(() => {
          if (deadline && !deadline.expire()) return;
          controller.abort(
            createGraphQLError(
              `The operation took longer than ${ms} ms and was stopped; nothing it was writing was applied.`,
              {
                extensions: { code: HardeningCode.TIMEOUT, http: { status: 504 } },
              },
            ),
          );
        }, ms);
        // graphql-tools' executor stops at the next field and rejects with the signal's reason.
        const withSignal: ExecutionArgs & { signal: AbortSignal } = { ...args, signal: controller.signal };
        try {
          return await executeFn(withSignal);
        } finally {
          clearTimeout(timer);
          // Resolvers run on after the cut: answer only once their transactions have rolled back.
          if (controller.signal.aborted) await deadline?.settled();
        }
      });
    },
  };
}
