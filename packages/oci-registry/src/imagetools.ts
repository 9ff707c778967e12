import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastLines, type RunResult, type ToolRunner, UserError } from '@golden-image/kit';
import { digestRef, sha256Digest, tagRef } from '@golden-image/oci';
import { type RetryPolicy, retryPolicyFrom, withRetries } from './retry.js';
import type { TagEngine } from './tag-engine.js';

/**
 * `docker buildx imagetools`, the engine docker/build-push-action users know. Trap: with one source that is a
 * single manifest, `imagetools create` wraps it in a NEW index with a new digest, which is why promote-tags
 * reads every tag back and compares it with the signed digest.
 */
export class Imagetools implements TagEngine {
  readonly name = 'imagetools';
  retries = 0;
  private readonly env: NodeJS.ProcessEnv;
  private readonly policy: RetryPolicy;
  private readonly onRetry?: (message: string) => void;
  private readonly auth?: { config: Buffer; tempDir: string };

  constructor(
    private readonly runner: ToolRunner,
    options: {
      authFile?: string;
      tempDir: string;
      env?: NodeJS.ProcessEnv;
      retry?: Partial<RetryPolicy>;
      onRetry?: (message: string) => void;
    },
  ) {
    this.env = { ...(options.env ?? process.env) };
    this.policy = retryPolicyFrom(this.env, options.retry);
    this.onRetry = options.onRetry;
    // The auth file has the docker config.json shape: it goes in a private DOCKER_CONFIG, off argv, that exists
    // only while one docker command runs (later steps share RUNNER_TEMP).
    if (options.authFile) this.auth = { config: readFileSync(options.authFile), tempDir: options.tempDir };
  }

  private async docker(args: string[], silent: boolean): Promise<RunResult> {
    if (!this.auth) return this.runner.run('docker', args, { silent, env: this.env });
    const dir = mkdtempSync(join(this.auth.tempDir, 'golden-image-docker-config-'));
    try {
      writeFileSync(join(dir, 'config.json'), this.auth.config, { mode: 0o600 });
      return await this.runner.run('docker', args, { silent, env: { ...this.env, DOCKER_CONFIG: dir } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
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
    const result = await this.withRetries(`Tagging ${tag}`, args, (r) => r.exitCode === 0, false);
    if (result.exitCode !== 0) {
      throw new UserError(
        `Tagging ${digestRef(image, digest)} as ${tag} with imagetools failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`,
      );
    }
  }

  async digestOf(ref: string): Promise<string | undefined> {
    const args = ['buildx', 'imagetools', 'inspect', '--raw', ref];
    const result = await this.withRetries(
      `Reading ${ref}`,
      args,
      (r) => r.exitCode === 0 || NOT_FOUND.test(r.stderr),
      true,
    );
    // --raw prints the manifest bytes exactly, with no trailing newline: their sha256 is the digest.
    if (result.exitCode === 0) return sha256Digest(result.stdout);
    if (NOT_FOUND.test(result.stderr)) return undefined;
    throw new UserError(`Reading ${ref} with imagetools failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`);
  }

  /** The same bounded retries of transient registry errors as skopeo gets (retry.ts), counted and logged. */
  private withRetries(what: string, args: string[], accept: (result: RunResult) => boolean, silent: boolean) {
    return withRetries(() => this.docker(args, silent), accept, {
      policy: this.policy,
      onRetry: ({ retry, attempts, failure, delayMs, message }) => {
        this.retries++;
        this.onRetry?.(
          `${what}: ${failure.reason} (${message}); retry ${retry} of ${attempts - 1} in ${(delayMs / 1000).toFixed(1)} s`,
        );
      },
    });
  }
}

const NOT_FOUND = /not found|manifest unknown|MANIFEST_UNKNOWN/i;
