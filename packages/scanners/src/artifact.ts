import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import type { ActionContext } from '@golden-image/kit';

export type UploadFn = (
  name: string,
  files: string[],
  rootDirectory: string,
) => Promise<{ id?: number; size?: number }>;

/** @actions/artifact's client, loaded only when an upload happens. */
export const defaultUpload: UploadFn = async (name, files, root) => {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  return new DefaultArtifactClient().uploadArtifact(name, files, root);
};

/**
 * Uploads one file as an artifact. Off a runner (no ACTIONS_RUNTIME_TOKEN) it says so and skips; a failed upload
 * is a warning (the SBOM stays on disk and in the `sbom` output), never a failed gate.
 */
export async function uploadFileArtifact(
  ctx: ActionContext,
  name: string,
  file: string,
  upload: UploadFn = defaultUpload,
): Promise<boolean> {
  if (!ctx.env.ACTIONS_RUNTIME_TOKEN) {
    ctx.info(
      `Not on a GitHub runner (no ACTIONS_RUNTIME_TOKEN): artifact "${name}" was not uploaded; the file is at ${file}.`,
    );
    return false;
  }
  try {
    const result = await upload(name, [file], dirname(file));
    ctx.info(`Uploaded ${basename(file)} as artifact "${name}"${result.id !== undefined ? ` (id ${result.id})` : ''}.`);
    return true;
  } catch (error) {
    ctx.warning(`Uploading artifact "${name}" failed: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/**
 * A name that parallel jobs, matrix legs and re-runs do not collide on (sbom-action #467):
 * base-job-attemptN-hash, the hash taken over the runner name, the step id and `scope` (the scanned path).
 */
export function uniqueArtifactName(env: NodeJS.ProcessEnv, base: string, scope = ''): string {
  const hash = createHash('sha256')
    .update(`${env.RUNNER_NAME ?? ''}\0${env.GITHUB_ACTION ?? ''}\0${scope}`)
    .digest('hex')
    .slice(0, 8);
  const parts = [base, env.GITHUB_JOB, env.GITHUB_RUN_ATTEMPT ? `attempt${env.GITHUB_RUN_ATTEMPT}` : undefined, hash];
  return parts
    .filter((part): part is string => Boolean(part))
    .join('-')
    .replace(/[^A-Za-z0-9._-]+/g, '-');
}
