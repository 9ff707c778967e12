import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lastLines, type ToolRunner, UserError } from '@golden-image/kit';
import { digestRef, sha256Digest, tagRef } from '@golden-image/oci';
import semver from 'semver';
import { classifyFailure, type Failure, fatalLine, hintFor } from './classify.js';
import { type RetryPolicy, retryPolicyFrom, withRetries } from './retry.js';
import type { TagEngine } from './tag-engine.js';

export interface RegistryOptions {
  /** false for a plain-HTTP or self-signed local registry. */
  tlsVerify: boolean;
  /** A private auth file (see authFileFor); otherwise skopeo's own lookup applies. */
  authFile?: string;
  /** skopeo's own retries for network errors (default 0: retry.ts retries, counts and logs instead). */
  retryTimes?: number;
  /** Bounds of the retries around each skopeo invocation (retry.ts). */
  retry?: Partial<RetryPolicy>;
  /** Called with one line per retry, naming the error. */
  onRetry?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** A skopeo failure, with whether it was transient (worth trying again later). */
export class SkopeoError extends UserError {
  override name = 'UserError';
  constructor(
    message: string,
    readonly failure: Failure,
  ) {
    super(message);
  }
}

/** The oldest skopeo with `--preserve-digests` (ubuntu-22.04 runners ship 1.4.1, which lacks it). */
export const MIN_SKOPEO = '1.6.0';

/**
 * The oldest skopeo whose image-spec (1.1.0-rc2, from skopeo 1.11.0's go.mod) knows the OCI 1.1 `artifactType` of
 * index entries. Older ones drop the field when they write the index, so its digest changes and
 * --preserve-digests refuses (measured with 1.9.3: "Manifest list must be converted ... cannot modify it").
 */
export const OCI11_SKOPEO = '1.11.0';

/** Refuses a layout with OCI 1.1 fields (verifyLayout's oci11Fields) for a skopeo that would rewrite its index. */
export function checkPushesUnchanged(version: string, oci11Fields: readonly string[]): void {
  if (oci11Fields.length === 0 || !semver.lt(version, OCI11_SKOPEO)) return;
  throw new UserError(
    `skopeo ${version} cannot push this layout unchanged: ${oci11Fields.join('; ')}. ` +
      `skopeo before ${OCI11_SKOPEO} does not know these OCI 1.1 fields, drops them when it writes the index, and so would change its digest ` +
      '(--preserve-digests then refuses). Use skopeo 1.11 or newer (ubuntu-24.04 runners ship 1.13), or build the image without the ' +
      'artifacts in its index (attach SBOMs and signatures after the push, as sign-digest does). Nothing was pushed.',
  );
}

/** skopeo, the suite's registry client: copies layouts and tags by digest and reads manifests back. */
export class Skopeo implements TagEngine {
  readonly name = 'skopeo';
  /** Invocations repeated after a transient failure, since this object was made. */
  retries = 0;
  constructor(
    private readonly runner: ToolRunner,
    private readonly options: RegistryOptions,
  ) {}

  /** The bounds of every retry this object makes (claimTags uses them too). */
  get retryPolicy(): RetryPolicy {
    return retryPolicyFrom(this.options.env ?? process.env, this.options.retry);
  }

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

  /**
   * Copies every manifest of the layout, byte for byte, to IMAGE:TAG. Once the blobs are in the registry this is
   * the cheapest way to write a tag (HEADs and manifest PUTs, 14 requests for two platforms with attestations,
   * against 24 for a registry-to-registry copy). `once`: no retry, the caller retries.
   */
  async pushLayout(layoutPath: string, image: string, tag: string, options: { once?: boolean } = {}): Promise<void> {
    await this.copy(
      [...this.destFlags()],
      `oci:${layoutPath}`,
      `docker://${tagRef(image, tag)}`,
      `Pushing the layout to ${tagRef(image, tag)}`,
      options.once,
    );
  }

  /**
   * Writes IMAGE:TAG as the layout's top-level index alone (`--multi-arch index-only`): one manifest PUT, where a
   * full copy HEADs every blob and PUTs every manifest. Every manifest the index lists must be in the repository
   * already (pushed by digest or under another tag); the registry refuses the index otherwise. A layout whose top
   * is one manifest is copied whole. `once`: no retry, the caller retries.
   */
  async pushIndexOnly(layoutPath: string, image: string, tag: string, options: { once?: boolean } = {}): Promise<void> {
    await this.copy(
      [...this.destFlags()],
      `oci:${layoutPath}`,
      `docker://${tagRef(image, tag)}`,
      `Writing the tag ${tagRef(image, tag)}`,
      options.once,
      'index-only',
    );
  }

  /** Copies every manifest of the layout to IMAGE@DIGEST: everything lands in the registry, no tag is written. */
  async pushLayoutToDigest(layoutPath: string, image: string, digest: string): Promise<void> {
    await this.copy(
      [...this.destFlags()],
      `oci:${layoutPath}`,
      `docker://${digestRef(image, digest)}`,
      `Pushing the layout to ${digestRef(image, digest)}`,
    );
  }

  /**
   * Points IMAGE:TAG at IMAGE@DIGEST. Every blob is already there, so no layer moves. `once`: no retry, the
   * caller retries (push-layout's tag claim re-checks the tag before each write).
   */
  async tagDigest(image: string, digest: string, tag: string, options: { once?: boolean } = {}): Promise<void> {
    await this.copy(
      [...this.srcFlags(), ...this.destFlags()],
      `docker://${digestRef(image, digest)}`,
      `docker://${tagRef(image, tag)}`,
      `Tagging ${digestRef(image, digest)} as ${tag}`,
      options.once,
    );
  }

  /** Copies IMAGE@DIGEST, every platform byte for byte, into the OCI layout at `layoutPath` (a rescan reads it there). */
  async pullToLayout(image: string, digest: string, layoutPath: string): Promise<void> {
    await this.copy(
      [...this.srcFlags()],
      `docker://${digestRef(image, digest)}`,
      `oci:${layoutPath}`,
      `Copying ${digestRef(image, digest)} into ${layoutPath}`,
    );
  }

  /** The digest of the manifest REF resolves to (sha256 of its exact bytes), or undefined when it does not exist. */
  async digestOf(ref: string, options: { once?: boolean } = {}): Promise<string | undefined> {
    const raw = await this.rawManifest(ref, options);
    return raw === undefined ? undefined : sha256Digest(raw);
  }

  /** The exact bytes of the manifest or index REF resolves to, or undefined when it does not exist. */
  async rawManifest(ref: string, options: { once?: boolean } = {}): Promise<Buffer | undefined> {
    const args = [
      ...this.globalFlags(),
      'inspect',
      '--raw',
      ...this.retryFlags(),
      ...this.tlsFlag('--tls-verify'),
      ...this.authFlags('--authfile'),
      `docker://${ref}`,
    ];
    const run = () => this.runner.run('skopeo', args, { silent: true, env: this.options.env });
    const result = options.once
      ? { ...(await run()), tries: 1, ms: 0 }
      : await this.retrying(run, (r) => r.exitCode === 0 || isNotFound(r.exitCode, r.stderr), `Reading ${ref}`);
    if (result.exitCode === 0) return result.stdout;
    if (isNotFound(result.exitCode, result.stderr)) return undefined;
    const failure = classifyFailure(result.stderr);
    throw new SkopeoError(
      unreachableMessage(`Reading ${ref} from the registry`, ref, failure, result, false) ??
        `Reading ${ref} from the registry failed (skopeo exit ${result.exitCode}${this.triesNote(result.tries)}): ${lastLines(result.stderr)}${hintFor(failure)}`,
      failure,
    );
  }

  private async copy(
    flags: string[],
    source: string,
    dest: string,
    what: string,
    once = false,
    manifests: 'all' | 'index-only' = 'all',
  ): Promise<void> {
    const args = [
      ...this.globalFlags(),
      'copy',
      ...(manifests === 'all' ? ['--all'] : ['--multi-arch', 'index-only']),
      '--preserve-digests',
      ...this.retryFlags(),
      ...flags,
      source,
      dest,
    ];
    const run = () => this.runner.run('skopeo', args, { env: this.options.env });
    const result = once
      ? { ...(await run()), tries: 1, ms: 0 }
      : await this.retrying(run, (r) => r.exitCode === 0, what);
    if (result.exitCode !== 0) {
      const failure = classifyFailure(result.stderr);
      const remote = [dest, source].find((ref) => ref.startsWith('docker://'))?.slice('docker://'.length) ?? '';
      throw new SkopeoError(
        unreachableMessage(what, remote, failure, result, true) ??
          `${what} failed (skopeo exit ${result.exitCode}${this.triesNote(result.tries)}): ${lastLines(result.stderr)}${hintFor(failure)}`,
        failure,
      );
    }
  }

  private async retrying<T extends { exitCode: number; stderr: string }>(
    attempt: () => Promise<T>,
    accept: (result: T) => boolean,
    what: string,
  ): Promise<T & { tries: number; ms: number }> {
    let tries = 1;
    const started = Date.now();
    const result = await withRetries(attempt, accept, {
      policy: this.retryPolicy,
      onRetry: ({ retry, attempts, failure, delayMs, message }) => {
        tries++;
        this.retries++;
        this.options.onRetry?.(
          `${what}: ${failure.reason} (${message}); retry ${retry} of ${attempts - 1} in ${(delayMs / 1000).toFixed(1)} s`,
        );
      },
    });
    return { ...result, tries, ms: Date.now() - started };
  }

  private triesNote(tries: number): string {
    return tries > 1 ? `, after ${tries} attempts` : '';
  }

  private globalFlags(): string[] {
    // Without a signature policy skopeo refuses to copy; runners and Debian ship one, minimal containers may not.
    const policies = ['/etc/containers/policy.json', join(homedir(), '.config/containers/policy.json')];
    return policies.some((path) => existsSync(path)) ? [] : ['--insecure-policy'];
  }

  private retryFlags(): string[] {
    return ['--retry-times', String(this.options.retryTimes ?? 0)];
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

/** Failures that mean the registry was not there to answer, or answered only with its own trouble. */
const UNREACHABLE = /^(?:connection refused|connection reset|connection dropped|timeout|network|50[234] )/;

/**
 * A registry that could not be reached (or answered 502/503/504) through every retry: say that, which registry,
 * after how many attempts and how long, and what to check, with skopeo's last error at the end.
 */
function unreachableMessage(
  what: string,
  ref: string,
  failure: Failure,
  result: { exitCode: number; stderr: string; tries: number; ms: number },
  writes: boolean,
): string | undefined {
  if (!failure.transient || result.tries < 2 || !UNREACHABLE.test(failure.reason)) return undefined;
  const host = ref.slice(0, ref.indexOf('/')) || ref;
  const how = /^50/.test(failure.reason)
    ? `kept answering ${failure.reason} (its own trouble, or a proxy's in front of it)`
    : `could not be reached (${failure.reason})`;
  return (
    `${what} failed: the registry ${host} ${how} through ${result.tries} attempts over ${(result.ms / 1000).toFixed(1)} s. ` +
    `Check that the image names the right registry host and port (${host}), that the registry is up (its status page), ` +
    "and that this runner can reach it (HTTPS_PROXY and NO_PROXY, a firewall, a self-hosted runner's network); then " +
    `run the job again${writes ? ': what was uploaded stays, and a re-run uploads only what is missing' : ''}. ` +
    `skopeo's last error (exit ${result.exitCode}): ${fatalLine(result.stderr)}`
  );
}

function isNotFound(exitCode: number, stderr: string): boolean {
  // skopeo 1.16+ exits 2 for "not found"; older versions exit 1 with the registry's error code in the message.
  return exitCode === 2 || classifyFailure(stderr).reason === 'not found';
}
