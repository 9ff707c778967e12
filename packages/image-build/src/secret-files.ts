import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

const ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Build secrets as docker/build-push-action's `secrets` input takes them: ID=VALUE, one per line. Problems name the
 * line, never the value.
 */
export function buildSecretsInput() {
  return z.string().transform((raw, ctx) => {
    const entries: { id: string; value: string }[] = [];
    for (const [i, line] of raw.split('\n').entries()) {
      if (line.trim() === '') continue;
      const eq = line.indexOf('=');
      const id = eq === -1 ? '' : line.slice(0, eq).trim();
      if (!ID.test(id)) {
        ctx.addIssue({
          code: 'custom',
          message: `line ${i + 1} is not ID=VALUE with an ID of letters, digits, ".", "_" or "-" (the value is not shown)`,
        });
        continue;
      }
      entries.push({ id, value: line.slice(eq + 1).replace(/\r$/, '') });
    }
    return entries;
  });
}

/**
 * Writes each secret to its own file (mode 0600) in a fresh private directory and returns build-oci's
 * `id=ID,src=FILE` specs: the value reaches the builder through a file, never an argument or the environment.
 */
export async function writeBuildSecrets(
  secrets: readonly { id: string; value: string }[],
  tempDir: string,
): Promise<{ specs: string[]; remove: () => Promise<void> }> {
  if (secrets.length === 0) return { specs: [], remove: async () => {} };
  const dir = await mkdtemp(join(tempDir, 'golden-image-build-secrets-'));
  const specs: string[] = [];
  for (const [i, secret] of secrets.entries()) {
    const file = join(dir, String(i));
    await writeFile(file, secret.value, { mode: 0o600 });
    specs.push(`id=${secret.id},src=${file}`);
  }
  return { specs, remove: () => rm(dir, { recursive: true, force: true }) };
}
