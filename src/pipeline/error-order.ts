import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type Path = readonly (string | number)[] | undefined;

/** Request-wide errors (no path) first, then by path: names in code-point order, list indexes by number. */
function byPath(a: Path, b: Path): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * The errors of a response in one order, whatever order their resolvers settled in: execution
 * records an error when its field fails, so the same request could list the same errors
 * differently from one run to the next.
 */
export function useErrorOrder(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Array.isArray(result) || !('errors' in result) || !result.errors || result.errors.length < 2) return;
          const errors = [...result.errors].sort(
            (a: GraphQLError, b: GraphQLError) =>
              byPath(a.path, b.path) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
          );
          setResult({ ...result, errors });
        },
      };
    },
  };
}
