import DataLoader from 'dataloader';

// Per request: a loader's cache must never be shared between viewers.
const byRequest = new WeakMap<object, Map<string, DataLoader<string, number>>>();

/**
 * A per-request loader of counts keyed by parent ID: many parents on a page, one query, and only
 * when a `totalCount` is actually asked for.
 */
export function countLoader(ctx: object, name: string, count: (ids: readonly string[]) => Promise<Map<string, number>>) {
  let loaders = byRequest.get(ctx);
  if (!loaders) byRequest.set(ctx, (loaders = new Map()));
  let loader = loaders.get(name);
  if (!loader) {
    loader = new DataLoader(async (ids: readonly string[]) => {
      const counts = await count(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    });
    loaders.set(name, loader);
  }
  return loader;
}
