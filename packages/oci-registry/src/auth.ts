import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ActionContext, UserError } from '@golden-image/kit';
import { registryOf } from '@golden-image/oci';

/**
 * Turns `username`/`password` inputs into a private auth file for skopeo, so the password never appears in
 * argv (where `ps` and the log would show it). Without credentials, skopeo finds them itself in
 * REGISTRY_AUTH_FILE, the containers auth.json or ~/.docker/config.json (what docker/login-action writes).
 */
export function authFileFor(
  ctx: ActionContext,
  image: string,
  username?: string,
  password?: string,
): string | undefined {
  if (password) ctx.secret(password);
  if (!username && !password) return undefined;
  if (!username)
    throw new UserError(
      'Input "password" is set but "username" is empty: give both, or neither to use the docker login of the runner.',
    );
  if (!password)
    throw new UserError(
      'Input "username" is set but "password" is empty: give both, or neither to use the docker login of the runner.',
    );
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  ctx.secret(auth);
  const dir = mkdtempSync(join(ctx.tempDir, 'golden-image-auth-'));
  const file = join(dir, 'auth.json');
  writeFileSync(file, JSON.stringify({ auths: { [registryOf(image)]: { auth } } }), { mode: 0o600 });
  return file;
}

/**
 * Runs fn with the private auth file (or undefined when no credentials were given) and deletes the file when fn
 * ends, however it ends: later steps of the job share RUNNER_TEMP and must not find the password there.
 */
export async function withAuthFile<T>(
  ctx: ActionContext,
  image: string,
  credentials: { username?: string; password?: string },
  fn: (authFile: string | undefined) => Promise<T>,
): Promise<T> {
  const file = authFileFor(ctx, image, credentials.username, credentials.password);
  try {
    return await fn(file);
  } finally {
    if (file) rmSync(dirname(file), { recursive: true, force: true });
  }
}
