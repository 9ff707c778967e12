import { resolve } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  checkedString,
  enumInput,
  maskSecretInputs,
  md,
  optionalCheckedString,
  optionalString,
  parseInputs,
  show,
} from '@golden-image/kit';
import {
  integrityProblem,
  PUBLIC_REGISTRY,
  type PublishOptions,
  type PublishResult,
  publishTarball,
  registryProblem,
  registryUrl,
} from '@golden-image/npm';
import semver from 'semver';

function tagProblem(tag: string): string | undefined {
  if (semver.validRange(tag)) return `must not be a version or semver range (npm refuses such a tag), got ${show(tag)}`;
  if (encodeURIComponent(tag) !== tag) return `must be URL-safe (letters, digits, - . _ ~), got ${show(tag)}`;
  return undefined;
}

export const inputs = {
  'tarball-path': checkedString(() => undefined, 'the tarball-path output of pack-npm'),
  integrity: checkedString(integrityProblem, 'the integrity output of pack-npm or scan-npm'),
  registry: optionalCheckedString(registryProblem),
  tag: checkedString(tagProblem, 'the dist-tag to publish under, for example latest'),
  access: optionalCheckedString((value) =>
    value === 'public' || value === 'restricted' ? undefined : `must be public or restricted, got ${show(value)}`,
  ),
  provenance: enumInput(['auto', 'true', 'false'] as const, 'auto'),
  token: optionalString(),
  'dry-run': booleanInput(false),
};

export interface PublishNpmDeps {
  /** Test seams: the npm binary, the OIDC token source, retry timing. */
  publish?: Partial<Pick<PublishOptions, 'npm' | 'fetchIdToken' | 'poll'>>;
}

/** Publishes exactly the tarball handed on, then proves the registry serves exactly it. */
export async function main(ctx: ActionContext, deps: PublishNpmDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'token');
  const input = parseInputs(inputs, ctx.input);
  const result = await ctx.group('npm publish', () =>
    publishTarball(ctx, {
      // npm is handed an absolute file path: a relative one could read as a package name or a directory.
      tarballPath: resolve(ctx.env.GITHUB_WORKSPACE || process.cwd(), input['tarball-path']),
      integrity: input.integrity,
      registry: registryUrl(input.registry || PUBLIC_REGISTRY),
      tag: input.tag,
      ...(input.access ? { access: input.access as 'public' | 'restricted' } : {}),
      provenance: input.provenance,
      ...(input.token ? { token: input.token } : {}),
      dryRun: input['dry-run'],
      ...deps.publish,
    }),
  );
  ctx.output('integrity', result.hash.integrity);
  ctx.output('name', result.name);
  ctx.output('version', result.version);
  ctx.output('published', String(result.published));
  ctx.output('tarball-url', result.tarballUrl);
  ctx.output('tag', result.tag);
  ctx.output('provenance', String(Boolean(result.provenance)));
  ctx.output('dry-run', String(Boolean(result.dryRun)));
  await ctx.summary(result.dryRun ? dryRunSummary(result) : summary(result));
}

function dryRunSummary(result: PublishResult): string {
  const id = `${result.name}@${result.version}`;
  const rows: [string, string][] = [
    [
      'Result',
      result.dryRun?.wouldPublish
        ? '**dry run**: npm would publish this tarball; nothing was published'
        : '**dry run**: the registry already holds this version with this integrity; a publish would be a re-run',
    ],
    ['integrity', md.code(result.hash.integrity)],
    ['Command', md.code(`npm ${result.argv.join(' ')}`)],
    ['dist-tag', md.code(result.tag)],
    ['Access', result.access],
    ['Not done', 'no token exchange, no provenance, no read-back (nothing was published to read)'],
  ];
  return `${md.heading(`publish-npm (dry run): ${md.code(id)}`)}\n${md.facts(rows)}\n`;
}

function summary(result: PublishResult): string {
  const id = `${result.name}@${result.version}`;
  const rows: [string, string][] = [
    ['Result', result.published ? 'published' : 'already published with this integrity (a re-run): nothing published'],
    ['Registry tarball', md.code(result.tarballUrl)],
    ['integrity', `${md.code(result.hash.integrity)}: dist.integrity, dist.shasum and the downloaded bytes match`],
    ['Version document', "dependencies, bin, install scripts, os/cpu match the tarball's package.json"],
    ['dist-tag', `${md.code(result.tag)} names ${md.code(result.tagged ?? '(nothing)')}`],
    ['Access', result.access],
    [
      'Authentication',
      result.auth === 'trusted-publishing' ? 'npm trusted publishing (GitHub OIDC)' : 'registry token',
    ],
    [
      'Provenance',
      result.provenance
        ? `subject checked against the tarball's SHA-512${result.provenance.workflow ? `; built by ${md.code(result.provenance.workflow)}` : ''}`
        : 'none',
    ],
  ];
  if (Object.keys(result.overridden).length > 0) {
    rows.push([
      'publishConfig overridden',
      Object.entries(result.overridden)
        .map(([key, value]) => md.code(`${key}=${JSON.stringify(value)}`))
        .join(', '),
    ]);
  }
  if (result.retries > 0) rows.push(['Registry retries', String(result.retries)]);
  return `${md.heading(`publish-npm: ${md.code(id)}`)}\n${md.facts(rows)}\n`;
}
