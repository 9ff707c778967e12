import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastLines, show, UserError } from '@golden-image/kit';
import { platformDigests, verifyLayout } from '@golden-image/oci';
import { pullAdvice } from './buildx-advice.js';
import { buildDigest, parseBuildxMetadata } from './metadata.js';
import { checkPlatforms } from './platforms.js';
import type { BuildContext, BuildRequest, BuildResult } from './types.js';

/** buildx older than this cannot reach the GitHub Actions cache service v2 (the legacy one shut down in 2025). */
export const MIN_GHA_BUILDX = [0, 21, 0] as const;

/**
 * The argv of the one `docker buildx build` that writes the layout. Every value is its own argv entry (no shell),
 * so `$(…)` or backticks in a build-arg stay literal.
 */
export function buildxArgs(request: BuildRequest, metadataFile: string): string[] {
  const args = [
    'buildx',
    'build',
    '--output',
    `type=oci,tar=false,dest=${request.layoutPath}`,
    '--metadata-file',
    metadataFile,
  ];
  args.push('--platform', request.platforms.join(','), '--provenance', request.provenance, '--sbom', request.sbom);
  if (request.file) args.push('--file', request.file);
  if (request.target) args.push('--target', request.target);
  if (request.noCache) args.push('--no-cache');
  if (request.pull) args.push('--pull');
  const repeated: [string, readonly string[]][] = [
    ['--build-arg', request.buildArgs],
    ['--secret', request.secrets],
    ['--ssh', request.ssh],
    ['--build-context', request.buildContexts],
    ['--label', request.labels],
    ['--annotation', request.annotations],
    ['--cache-from', request.cacheFrom],
    ['--cache-to', request.cacheTo],
  ];
  for (const [flag, values] of repeated) for (const value of values) args.push(flag, value);
  args.push(request.context);
  return args;
}

/** `github.com/docker/buildx v0.36.1 abc123` -> [0, 36, 1]; undefined when buildx answers otherwise. */
export function parseBuildxVersion(stdout: string): [number, number, number] | undefined {
  const match = /\bv?(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function older(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** Runs the build, then proves the layout is complete and is the image buildx says it built. */
export async function buildWithBuildx(ctx: BuildContext, request: BuildRequest): Promise<BuildResult> {
  if (/[,"]/.test(request.layoutPath)) {
    throw new UserError(
      `Input "layout-path": ${show(request.layoutPath)} contains a comma or quote, which buildx's --output CSV cannot carry. Use a plain path.`,
    );
  }
  const version = await ctx.runner.run('docker', ['buildx', 'version'], { env: ctx.env, silent: true });
  if (version.exitCode !== 0) {
    throw new UserError(
      `docker buildx is not available (docker buildx version exited ${version.exitCode}: ${lastLines(version.stderr, 2)}). ` +
        'Add docker/setup-buildx-action before this step, or use builder: buildah on runners without Docker.',
    );
  }
  const parsed = parseBuildxVersion(version.stdout.toString('utf8'));
  const usesGha = [...request.cacheFrom, ...request.cacheTo].some((spec) => spec.split(',').includes('type=gha'));
  if (usesGha && parsed && older(parsed, MIN_GHA_BUILDX)) {
    throw new UserError(
      `buildx ${parsed.join('.')} cannot use the GitHub Actions cache (type=gha needs buildx ${MIN_GHA_BUILDX.join('.')} or newer since the legacy cache service shut down). ` +
        'Update buildx (docker/setup-buildx-action with a recent version), or set cache-from and cache-to to none.',
    );
  }
  if (usesGha && !(ctx.env.ACTIONS_RUNTIME_TOKEN && (ctx.env.ACTIONS_CACHE_URL || ctx.env.ACTIONS_RESULTS_URL))) {
    ctx.info(
      'No ACTIONS_RUNTIME_TOKEN and cache URL in the environment: buildx will skip the type=gha cache (it does so silently).',
    );
  }

  await mkdir(ctx.tempDir, { recursive: true });
  const metadataDir = await mkdtemp(join(ctx.tempDir, 'golden-image-buildx-'));
  const metadataFile = join(metadataDir, 'metadata.json');
  // The whole environment goes through: buildx reads the gha cache token and URLs from it.
  const result = await ctx.runner.run('docker', buildxArgs(request, metadataFile), { env: ctx.env });
  if (result.exitCode !== 0) {
    const dockerfile = await readFile(request.file ?? join(request.context, 'Dockerfile'), 'utf8').catch(() => '');
    const advice = /not supported for the docker driver|docker driver/i.test(result.stderr)
      ? ' The OCI exporter needs a docker-container builder: add docker/setup-buildx-action before this step.'
      : (pullAdvice(result.stderr, dockerfile) ?? '');
    throw new UserError(`docker buildx build failed (exit ${result.exitCode}): ${lastLines(result.stderr)}${advice}`);
  }
  const text = await readFile(metadataFile, 'utf8').catch(() => {
    throw new UserError(`docker buildx build succeeded but wrote no metadata file at ${metadataFile}.`);
  });
  const metadata = parseBuildxMetadata(text);
  const digest = buildDigest(metadata);
  // The layout everyone downstream trusts starts here: hash every layer too, once.
  const layout = await verifyLayout(request.layoutPath, undefined, { layers: 'digest' });
  if (layout.digest !== digest) {
    throw new UserError(
      `The layout at ${layout.path} holds ${layout.digest}, but buildx reports it built ${digest} (containerimage.digest). ` +
        'The layout is not the image that was built; refusing it.',
    );
  }
  const platforms = platformDigests(layout.manifests);
  checkPlatforms(request.platforms, platforms, 'buildx');
  return { builder: 'buildx', layout, platforms, metadata: metadata.raw };
}
