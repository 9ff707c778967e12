import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastLines, type ToolRunner, UserError } from '@golden-image/kit';
import { digestRef, sha256Digest, tagRef } from '@golden-image/oci';
import type { TagEngine } from './client.js';

/**
 * `docker buildx imagetools`, the engine docker/build-push-action users know. Trap: with one source that is a
 * single manifest, `imagetools create` wraps it in a NEW index with a new digest, which is why promote-tags
 * reads every tag back and compares it with the signed digest.
 */
export class Imagetools implements TagEngine {
  readonly name = 'imagetools';
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly runner: ToolRunner,
    options: { authFile?: string; tempDir: string; env?: NodeJS.ProcessEnv },
  ) {
    this.env = { ...(options.env ?? process.env) };
    if (options.authFile) {
      // The auth file has the docker config.json shape; a private DOCKER_CONFIG keeps the password off argv.
      const dir = mkdtempSync(join(options.tempDir, 'golden-image-docker-config-'));
      writeFileSync(join(dir, 'config.json'), readFileSync(options.authFile), { mode: 0o600 });
      this.env.DOCKER_CONFIG = dir;
    }
  }

  /** True when `docker buildx` answers. */
  static async available(runner: ToolRunner, env?: NodeJS.ProcessEnv): Promise<boolean> {
    try {
      const result = await runner.run('docker', ['buildx', 'version'], { silent: true, env });
      return result.exitCode === 0;
    } catch {
      return false;
    }
  }

  async tagDigest(image: string, digest: string, tag: string): Promise<void> {
    const args = ['buildx', 'imagetools', 'create', '--tag', tagRef(image, tag), digestRef(image, digest)];
    const result = await this.runner.run('docker', args, { env: this.env });
    if (result.exitCode !== 0) {
      throw new UserError(
        `Tagging ${digestRef(image, digest)} as ${tag} with imagetools failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`,
      );
    }
  }

  async digestOf(ref: string): Promise<string | undefined> {
    const result = await this.runner.run('docker', ['buildx', 'imagetools', 'inspect', '--raw', ref], {
      silent: true,
      env: this.env,
    });
    // --raw prints the manifest bytes exactly, with no trailing newline: their sha256 is the digest.
    if (result.exitCode === 0) return sha256Digest(result.stdout);
    if (/not found|manifest unknown|MANIFEST_UNKNOWN/i.test(result.stderr)) return undefined;
    throw new UserError(`Reading ${ref} with imagetools failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`);
  }
}
