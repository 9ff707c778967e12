import type { ActionContext } from '@golden-image/kit';

/** @actions/cache (with the Azure storage client) is large: loaded only when a step actually caches something. */
const loadCache = () => import('@actions/cache');

/**
 * Best-effort use of the actions cache: skipped with an info line off a runner (no cache service URL in the
 * environment), and any failure is a warning, never a failed step.
 */
export async function restoreCacheBestEffort(
  ctx: ActionContext,
  what: string,
  paths: string[],
  key: string,
  restoreKeys: string[] = [],
): Promise<string | undefined> {
  const cache = await loadCache();
  if (!cache.isFeatureAvailable()) {
    ctx.info(
      `${what}: the actions cache is not available here (no ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL); not restoring.`,
    );
    return undefined;
  }
  try {
    const hit = await cache.restoreCache(paths, key, restoreKeys);
    ctx.info(
      hit
        ? `${what}: restored from the actions cache (key ${hit}).`
        : `${what}: nothing in the actions cache for ${key}.`,
    );
    return hit;
  } catch (error) {
    ctx.warning(`${what}: restoring from the actions cache failed (going on without it): ${message(error)}`);
    return undefined;
  }
}

export async function saveCacheBestEffort(
  ctx: ActionContext,
  what: string,
  paths: string[],
  key: string,
): Promise<boolean> {
  const cache = await loadCache();
  if (!cache.isFeatureAvailable()) {
    ctx.info(
      `${what}: the actions cache is not available here (no ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL); not saving.`,
    );
    return false;
  }
  try {
    await cache.saveCache(paths, key);
    ctx.info(`${what}: saved to the actions cache (key ${key}).`);
    return true;
  } catch (error) {
    // A key that another job saved first is normal (caches are immutable); anything else is only a warning.
    const text = message(error);
    if (/already exists|ReserveCacheError|another job may be creating/i.test(text)) ctx.info(`${what}: ${text}`);
    else ctx.warning(`${what}: saving to the actions cache failed (the step goes on): ${text}`);
    return false;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
