import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lastLines, type ToolRunner, UserError } from '@golden-image/kit';
import { digestRef, sha256Digest, tagRef } from '@golden-image/oci';
import semver from 'semver';
import type { TagEngine } from './client.js';

export interface RegistryOptions {
  /** false for a plain-HTTP or self-signed local registry. */
  tlsVerify: boolean;
  /** A private auth file (see authFileFor); otherwise skopeo's own lookup applies. */
  authFile?: string;
  /** skopeo's own retries for network errors. */
  retryTimes?: number;
  env?: NodeJS.ProcessEnv;
}

/** The oldest skopeo with `--preserve-digests` (ubuntu-22.04 runners ship 1.4.1, which lacks it). */
export const MIN_SKOPEO = '1.6.0';

/** skopeo, the suite's registry client: copies layouts and tags by digest and reads manifests back. */
export class Skopeo implements TagEngine {
  readonly name = 'skopeo';
  constructor(
    private readonly runner: ToolRunner,
    private readonly options: RegistryOptions,
  ) {}

  async version(): Promise<string> {
    const result = await this.runner.run('skopeo', ['--version'], { silent: true, env: this.options.env });
    const version = /(\d+\.\d+\.\d+)/.exec(result.stdout.toString())?.[1];
    if (result.exitCode !== 0 || !version)
      throw new UserError(`Could not read skopeo's version: ${lastLines(result.stderr)}`);
    if (semver.lt(version, MIN_SKOPEO)) {
      throw new UserError(
        `skopeo ${version} is too old: golden-image needs ${MIN_SKOPEO} or newer for --preserve-digests. ` +
          'Use an ubuntu-24.04 runner (skopeo 1.13) or install a newer skopeo before this step.',
      );
    }
    return version;
  }

  /** Copies every manifest of the layout, byte for byte, to IMAGE:TAG. */
  async pushLayout(layoutPath: string, image: string, tag: string): Promise<void> {
    await this.copy(
      [...this.destFlags()],
      `oci:${layoutPath}`,
      `docker://${tagRef(image, tag)}`,
      `Pushing the layout to ${tagRef(image, tag)}`,
    );
  }

  /** Points IMAGE:TAG at IMAGE@DIGEST. Every blob is already there, so no layer moves. */
  async tagDigest(image: string, digest: string, tag: string): Promise<void> {
    await this.copy(
      [...this.srcFlags(), ...this.destFlags()],
      `docker://${digestRef(image, digest)}`,
      `docker://${tagRef(image, tag)}`,
      `Tagging ${digestRef(image, digest)} as ${tag}`,
    );
  }

  /** The digest of the manifest REF resolves to (sha256 of its exact bytes), or undefined when it does not exist. */
  async digestOf(ref: string): Promise<string | undefined> {
    const args = [
      ...this.globalFlags(),
      'inspect',
      '--raw',
      ...this.retryFlags(),
      ...this.tlsFlag('--tls-verify'),
      ...this.authFlags('--authfile'),
      `docker://${ref}`,
    ];
    const result = await this.runner.run('skopeo', args, { silent: true, env: this.options.env });
    if (result.exitCode === 0) return sha256Digest(result.stdout);
    if (isNotFound(result.exitCode, result.stderr)) return undefined;
    throw new UserError(
      `Reading ${ref} from the registry failed (skopeo exit ${result.exitCode}): ${lastLines(result.stderr)}${hint(result.stderr)}`,
    );
  }

  private async copy(flags: string[], source: string, dest: string, what: string): Promise<void> {
    const args = [
      ...this.globalFlags(),
      'copy',
      '--all',
      '--preserve-digests',
      ...this.retryFlags(),
      ...flags,
      source,
      dest,
    ];
    const result = await this.runner.run('skopeo', args, { env: this.options.env });
    if (result.exitCode !== 0) {
      throw new UserError(
        `${what} failed (skopeo exit ${result.exitCode}): ${lastLines(result.stderr)}${hint(result.stderr)}`,
      );
    }
  }

  private globalFlags(): string[] {
    // Without a signature policy skopeo refuses to copy; runners and Debian ship one, minimal containers may not.
    const policies = ['/etc/containers/policy.json', join(homedir(), '.config/containers/policy.json')];
    return policies.some((path) => existsSync(path)) ? [] : ['--insecure-policy'];
  }

  private retryFlags(): string[] {
    return ['--retry-times', String(this.options.retryTimes ?? 3)];
  }

  private tlsFlag(flag: string): string[] {
    return this.options.tlsVerify ? [] : [`${flag}=false`];
  }

  private authFlags(flag: string): string[] {
    return this.options.authFile ? [flag, this.options.authFile] : [];
  }

  private srcFlags(): string[] {
    return [...this.tlsFlag('--src-tls-verify'), ...this.authFlags('--src-authfile')];
  }

  private destFlags(): string[] {
    return [...this.tlsFlag('--dest-tls-verify'), ...this.authFlags('--dest-authfile')];
  }
}

function isNotFound(exitCode: number, stderr: string): boolean {
  // skopeo 1.16+ exits 2 for "not found"; older versions exit 1 with the registry's error code in the message.
  return exitCode === 2 || /manifest unknown|name unknown|not found|MANIFEST_UNKNOWN|NAME_UNKNOWN/i.test(stderr);
}

function hint(stderr: string): string {
  if (/unauthorized|authentication required|401|denied/i.test(stderr)) {
    return '\nThe registry refused the credentials: log in first (docker/login-action) or set the "username" and "password" inputs.';
  }
  if (/http: server gave HTTP response to HTTPS client/i.test(stderr)) {
    return '\nThe registry speaks plain HTTP: set "tls-verify: false" for a local test registry.';
  }
  if (/certificate signed by unknown authority|x509/i.test(stderr)) {
    return '\nThe registry\'s TLS certificate is not trusted: install its CA on the runner, or set "tls-verify: false" for a test registry.';
  }
  return '';
}
