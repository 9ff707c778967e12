import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { fetchGithubIdToken, hasGithubOidc, type IdTokenFetcher } from '@golden-image/signing';
import semver from 'semver';
import { installFacts } from './install-facts.js';
import { type TarballHash, verifyTarball } from './integrity.js';
import { npmSandbox, registryKey } from './npm-env.js';
import { type PollOptions, poll, readBackPolicy } from './poll.js';
import { checkProvenance, type ProvenanceCheck } from './provenance.js';
import { reviewPublishConfig } from './publish-config.js';
import { type Expected, packumentAttempt, readBack } from './readback.js';
import { RegistryHttp } from './registry-http.js';
import { readTarballManifest } from './tarball.js';
import { exchangeOidcToken } from './trusted-publishing.js';

export type ProvenanceMode = 'auto' | 'true' | 'false';
export type Access = 'public' | 'restricted';

export interface PublishOptions {
  tarballPath: string;
  integrity: string;
  registry: URL;
  tag: string;
  /** Required for a scoped name; public for an unscoped one. Always passed to npm explicitly. */
  access?: Access;
  provenance: ProvenanceMode;
  /** A registry token; undefined means trusted publishing with the job's GitHub OIDC token. */
  token?: string;
  /**
   * Check everything a publish would, and run `npm publish --dry-run` on the file, but publish nothing: no token or
   * OIDC exchange is needed (the registry is read anonymously, or with the token when one is given), nothing is read
   * back, no provenance is made.
   */
  dryRun?: boolean;
  npm?: string;
  fetchIdToken?: IdTokenFetcher;
  /** Retry timing of the registry reads (tests shorten it). */
  poll?: Partial<Omit<PollOptions, 'onRetry'>>;
}

export interface PublishResult {
  name: string;
  version: string;
  hash: TarballHash;
  /** false when the registry already held exactly this tarball under this version (a re-run), or in a dry run. */
  published: boolean;
  /** A dry run: what npm would publish was checked, and nothing was published. */
  dryRun?: { wouldPublish: boolean };
  tarballUrl: string;
  tag: string;
  /** What the tag names after the read-back. */
  tagged: string | undefined;
  access: Access;
  auth: 'token' | 'trusted-publishing';
  provenance?: ProvenanceCheck;
  /** publishConfig keys in the tarball that the explicit flags overrode. */
  overridden: Record<string, unknown>;
  retries: number;
  argv: string[];
}

export const PUBLIC_REGISTRY = 'https://registry.npmjs.org/';
/** `npm publish --provenance` first shipped in npm 9.5.0. */
const MIN_NPM_PROVENANCE = '9.5.0';

/**
 * Publishes exactly the tarball handed on: re-hashed first; a version the registry already holds with the same
 * integrity is a re-run (success, nothing published), with another integrity a failure before npm runs. npm
 * publishes the file by absolute path with every setting explicit, and the result is read back.
 */
export async function publishTarball(ctx: ActionContext, options: PublishOptions): Promise<PublishResult> {
  const npm = options.npm ?? 'npm';
  const hash = await verifyTarball(options.tarballPath, options.integrity);
  const { manifest, listing } = await readTarballManifest(options.tarballPath);
  const name = manifest.name;
  const version = manifest.version;
  if (typeof name !== 'string' || typeof version !== 'string' || !semver.valid(version)) {
    throw new UserError(
      `The tarball's package.json has no valid name and version (${String(name)}@${String(version)}).`,
    );
  }
  const id = `${name}@${version}`;
  const review = reviewPublishConfig(manifest);
  if (review.refused.length > 0) {
    throw new UserError(
      `The tarball's publishConfig sets ${review.refused.map((key) => `"${key}"`).join(', ')}, which npm would apply to the publish ` +
        '(any npm setting in publishConfig is). publish-npm takes the registry, tag, access and provenance from its inputs; ' +
        'remove these keys from publishConfig and pack again.',
    );
  }
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
  if (scope && !options.access) {
    // npm's default for a scoped package depends on what the registry already holds; an explicit choice never does.
    throw new UserError(
      `Input "access": ${name} is scoped, so say public or restricted (npm would otherwise decide by itself).`,
    );
  }
  const access = options.access ?? 'public';
  if (!scope && access === 'restricted') {
    throw new UserError(
      `Input "access": ${name} is not scoped, and only scoped packages can be restricted; use public.`,
    );
  }
  const oidc = hasGithubOidc(ctx.env);
  if (options.dryRun) return dryRun(ctx, options, { npm, hash, name, version, access, scope, review });
  const provenance = decideProvenance(ctx, options, oidc);
  if (!options.token && !oidc) {
    throw new UserError(
      'Input "token": empty, and this job has no GitHub OIDC token for npm trusted publishing (ACTIONS_ID_TOKEN_REQUEST_URL / ' +
        'ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set). Give the publish job `permissions: id-token: write` and configure it ' +
        'as a trusted publisher of the package, or pass a registry token.',
    );
  }
  if (provenance) await requireNpmVersion(ctx, npm, MIN_NPM_PROVENANCE, 'provenance');

  let token = options.token;
  let auth: PublishResult['auth'] = 'token';
  if (!token) {
    token = await exchangeOidcToken({
      http: new RegistryHttp(options.registry),
      packageName: name,
      env: ctx.env,
      fetchIdToken: options.fetchIdToken ?? fetchGithubIdToken,
      mask: (value) => ctx.secret(value),
    });
    if (!/^[\x21-\x7e]+$/.test(token)) throw new UserError('npm trusted publishing: the exchanged token is malformed.');
    ctx.secret(token);
    auth = 'trusted-publishing';
    ctx.info(`npm trusted publishing: exchanged the GitHub OIDC token for a publish token for ${name}.`);
  }
  const http = new RegistryHttp(options.registry, token);
  const counter = { retries: 0 };
  const pollOptions = pollOptionsFor(ctx, options, counter);

  const existing = await publishedIntegrity(http, name, version, pollOptions);
  const argv = publishArgv(options, access, scope, provenance, false);
  let published = false;
  if (existing === hash.integrity) {
    ctx.info(
      `${id} is already in ${options.registry.href} with integrity ${hash.integrity}: a re-run; nothing to publish.`,
    );
  } else if (existing !== undefined) {
    throw new UserError(
      `${id} is already published in ${options.registry.href} with other bytes (integrity ${existing}; this tarball is ${hash.integrity}). ` +
        'A published version can never be replaced: bump the version and pack again.',
    );
  } else {
    for (const [key, value] of Object.entries(review.overridden)) {
      ctx.warning(
        `The tarball's publishConfig.${key} (${JSON.stringify(value)}) is overridden by publish-npm's inputs.`,
      );
    }
    const work = await mkdtemp(join(ctx.tempDir, 'golden-image-publish-'));
    // The .npmrc holding the publish token lives only while npm publish runs.
    const result = await (async () => {
      try {
        const sandbox = await npmSandbox(ctx.env, work, {
          oidc: provenance,
          config: [`${registryKey(options.registry)}:_authToken=${token}`],
        });
        return await ctx.runner.run(npm, argv, { cwd: join(work, 'home'), env: sandbox.env });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    })();
    if (result.exitCode !== 0) {
      // Another run may have published the same bytes meanwhile: that is still success.
      const now = await publishedIntegrity(http, name, version, pollOptions);
      if (now !== undefined && now !== hash.integrity) {
        throw new UserError(
          `${id} was published in ${options.registry.href} by someone else meanwhile, with other bytes (integrity ${now}; this tarball is ${hash.integrity}). npm publish failed (exit code ${result.exitCode}).`,
        );
      }
      if (now !== hash.integrity) {
        throw new UserError(
          `npm publish of ${id} to ${options.registry.href} failed (exit code ${result.exitCode}): ${lastLines(result.stderr, 8)}`,
        );
      }
      ctx.info(`npm publish failed, but ${id} is now in the registry with this integrity (published concurrently).`);
    } else {
      published = true;
    }
  }

  const expected: Expected = {
    name,
    version,
    hash,
    facts: installFacts(
      manifest,
      listing.files.map((file) => file.path),
    ),
    files: listing.files.map((file) => file.path),
  };
  const back = await readBack(http, expected, { ...pollOptions, tag: options.tag, waitForTag: published });
  if (!published && back.tagged !== version) {
    ctx.warning(
      `dist-tag ${options.tag} names ${back.tagged ?? 'nothing'}, not ${version}; a re-run does not move it (another publish may have).`,
    );
  }
  const provenanceCheck =
    provenance && published
      ? await checkProvenance(http, back.versionDoc, { name, version, sha512Hex: hash.sha512Hex }, pollOptions)
      : undefined;
  return {
    name,
    version,
    hash,
    published,
    tarballUrl: back.tarballUrl,
    tag: options.tag,
    tagged: back.tagged,
    access,
    auth,
    ...(provenanceCheck ? { provenance: provenanceCheck } : {}),
    overridden: published ? review.overridden : {},
    retries: counter.retries,
    argv,
  };
}

/**
 * A dry run: the same checks as a publish up to npm (re-hash, name and version, publishConfig, access, the version
 * already in the registry with these bytes or others), then `npm publish FILE --dry-run` with the same settings and
 * no token, so npm reports what it would upload. Nothing is published, nothing read back.
 */
async function dryRun(
  ctx: ActionContext,
  options: PublishOptions,
  facts: {
    npm: string;
    hash: TarballHash;
    name: string;
    version: string;
    access: Access;
    scope: string | undefined;
    review: ReturnType<typeof reviewPublishConfig>;
  },
): Promise<PublishResult> {
  const { npm, hash, name, version, access, scope, review } = facts;
  const id = `${name}@${version}`;
  const counter = { retries: 0 };
  const http = new RegistryHttp(options.registry, options.token);
  const existing = await publishedIntegrity(http, name, version, pollOptionsFor(ctx, options, counter));
  if (existing !== undefined && existing !== hash.integrity) {
    throw new UserError(
      `Dry run: ${id} is already published in ${options.registry.href} with other bytes (integrity ${existing}; this tarball is ${hash.integrity}), ` +
        'so a publish would fail. A published version can never be replaced: bump the version and pack again.',
    );
  }
  const argv = publishArgv(options, access, scope, false, true);
  const wouldPublish = existing === undefined;
  if (!wouldPublish) {
    ctx.info(
      `Dry run: ${id} is already in ${options.registry.href} with integrity ${hash.integrity}: a publish would be a re-run, publishing nothing.`,
    );
  } else {
    for (const [key, value] of Object.entries(review.overridden))
      ctx.warning(
        `The tarball's publishConfig.${key} (${JSON.stringify(value)}) would be overridden by publish-npm's inputs.`,
      );
    const work = await mkdtemp(join(ctx.tempDir, 'golden-image-publish-dry-run-'));
    const sandbox = await npmSandbox(ctx.env, work, {});
    const result = await ctx.runner.run(npm, argv, { cwd: join(work, 'home'), env: sandbox.env });
    if (result.exitCode !== 0) {
      throw new UserError(
        `npm publish --dry-run of ${id} to ${options.registry.href} failed (exit code ${result.exitCode}): ${lastLines(result.stderr, 8)}`,
      );
    }
    ctx.info(
      `Dry run: npm would publish ${id} (${hash.integrity}) to ${options.registry.href} under ${options.tag}; nothing was published.`,
    );
  }
  return {
    name,
    version,
    hash,
    published: false,
    dryRun: { wouldPublish },
    tarballUrl: '',
    tag: options.tag,
    tagged: undefined,
    access,
    auth: options.token ? 'token' : 'trusted-publishing',
    overridden: review.overridden,
    retries: counter.retries,
    argv,
  };
}

/** Registry reads bounded and retried, each retry logged and counted in `counter.retries`. */
function pollOptionsFor(ctx: ActionContext, options: PublishOptions, counter: { retries: number }): PollOptions {
  return {
    policy: options.poll?.policy ?? readBackPolicy(ctx.env),
    ...(options.poll?.sleep ? { sleep: options.poll.sleep } : {}),
    onRetry: (event) => {
      counter.retries++;
      ctx.info(`${event.what}: ${event.reason}; retry ${event.retry} in ${event.delayMs} ms.`);
    },
  };
}

/** `npm publish FILE` with every setting explicit (the same for a publish and for a dry run). */
function publishArgv(
  options: PublishOptions,
  access: Access,
  scope: string | undefined,
  provenance: boolean,
  dryRun: boolean,
): string[] {
  const argv = ['publish', options.tarballPath, '--registry', options.registry.href, '--tag', options.tag];
  argv.push('--access', access, `--provenance=${provenance}`, '--ignore-scripts', `--dry-run=${dryRun}`);
  // A scope's registry setting outranks --registry in npm; the tarball's publishConfig could set one.
  if (scope) argv.push(`--${scope}:registry=${options.registry.href}`);
  return argv;
}

function decideProvenance(ctx: ActionContext, options: PublishOptions, oidc: boolean): boolean {
  if (options.provenance === 'false') return false;
  if (options.provenance === 'true') {
    if (!oidc) {
      throw new UserError(
        'Input "provenance": true needs a GitHub OIDC token to sign the provenance statement, and this job has none ' +
          '(ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set). Add `permissions: id-token: write` ' +
          'to the publish job, or set provenance: false.',
      );
    }
    return true;
  }
  if (!oidc) {
    ctx.info('provenance: auto: no GitHub OIDC token in this job, so no provenance statement.');
    return false;
  }
  if (options.registry.href !== PUBLIC_REGISTRY) {
    ctx.info(`provenance: auto: ${options.registry.href} is not the public npm registry, so no provenance statement.`);
    return false;
  }
  return true;
}

async function requireNpmVersion(ctx: ActionContext, npm: string, minimum: string, why: string): Promise<void> {
  const result = await ctx.runner.run(npm, ['--version'], { env: ctx.env, silent: true });
  const version = semver.valid(result.stdout.toString('utf8').trim());
  if (result.exitCode !== 0 || !version) throw new UserError(`npm --version failed: ${lastLines(result.stderr)}`);
  if (semver.lt(version, minimum)) {
    throw new UserError(
      `${why} needs npm ${minimum} or newer; this runner has npm ${version}. Set up a newer Node.js/npm first.`,
    );
  }
}

/** The integrity the registry holds for name@version, or undefined when it has no such version. */
async function publishedIntegrity(
  http: RegistryHttp,
  name: string,
  version: string,
  options: PollOptions,
): Promise<string | undefined> {
  const what = `Checking whether ${name}@${version} is already in ${http.registry.href}`;
  const packument = await poll(
    what,
    async () => packumentAttempt(await http.get(http.packumentUrl(name)), what),
    options,
  );
  const dist = packument?.versions?.[version]?.dist;
  if (!packument?.versions?.[version]) return undefined;
  const integrity = dist?.integrity;
  if (typeof integrity !== 'string') {
    throw new UserError(
      `${name}@${version} is already in ${http.registry.href}, and the registry serves no dist.integrity for it.`,
    );
  }
  return integrity;
}
