import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';

/**
 * cosign reads registry credentials only from a docker config (DOCKER_CONFIG/config.json, else ~/.docker/config.json):
 * it has no --authfile, and --registry-password would put the password in argv. So the private auth file the
 * registry package wrote from the username/password inputs (`{"auths": {...}}`, the same format) becomes the
 * config.json of a private directory that only cosign is pointed at, deleted when fn ends, however it ends.
 * Without an auth file cosign keeps the job's own docker login.
 */
export async function withCosignAuth<T>(
  ctx: ActionContext,
  authFile: string | undefined,
  fn: (env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  if (!authFile) return fn(ctx.env);
  const dir = mkdtempSync(join(ctx.tempDir, 'golden-image-cosign-auth-'));
  try {
    copyFileSync(authFile, join(dir, 'config.json'));
    return await fn({ ...ctx.env, DOCKER_CONFIG: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
