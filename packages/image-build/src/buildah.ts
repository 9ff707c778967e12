import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { lastLines, UserError } from '@golden-image/kit';
import { platformDigests, verifyLayout } from '@golden-image/oci';
import { annotateIndex, manifestAnnotationsFor } from './annotations.js';
import { prepareLayoutDir } from './layout-dir.js';
import { checkPlatforms, uniquePlatforms } from './platforms.js';
import type { BuildContext, BuildRequest, BuildResult } from './types.js';
import { attestOn, parseSecret } from './validate.js';

/** What the demo (or any caller) gives buildWithBuildah; unset fields take build-oci's defaults. */
export interface BuildahOptions {
  context: string;
  file?: string;
  platforms?: string[];
  buildArgs?: string[];
  secrets?: string[];
  labels?: string[];
  annotations?: string[];
  target?: string;
  ssh?: string[];
  buildContexts?: string[];
  noCache?: boolean;
  pull?: boolean;
  /** Absent or empty directory; default a fresh one under ctx.tempDir. */
  layoutPath?: string;
  /** Seconds since the epoch for created times (`--timestamp`), for reproducible builds. */
  timestamp?: number;
  /** Only used to warn that buildah cannot attach attestations; default false. */
  provenance?: string;
  sbom?: string;
}

/** Inputs buildah cannot honour, as problems naming the input (checked before anything is built). */
export function buildahProblems(request: Pick<BuildRequest, 'annotations' | 'cacheFrom' | 'cacheTo'>): string[] {
  const problems: string[] = [];
  for (const name of ['cacheFrom', 'cacheTo'] as const) {
    if (request[name].length > 0) {
      const input = name === 'cacheFrom' ? 'cache-from' : 'cache-to';
      problems.push(
        `Input "${input}": BuildKit cache specs do not apply to builder: buildah; set ${input}: none (or leave it unset).`,
      );
    }
  }
  return problems;
}

/** The two buildah commands: one build into a local manifest list, one push of the whole list to oci:DIR. */
export function buildahArgs(
  request: BuildRequest,
  storage: {
    root: string;
    runroot: string;
    manifest: string;
    digestFile: string;
    registriesConf?: string;
    signaturePolicy?: string;
  },
): { builds: string[][]; push: string[] } {
  const global = ['--root', storage.root, '--runroot', storage.runroot, '--storage-driver', 'vfs'];
  if (storage.registriesConf) global.push('--registries-conf', storage.registriesConf);
  const policy = storage.signaturePolicy ? ['--signature-policy', storage.signaturePolicy] : [];
  // One build per platform, in the order asked, into the same list: given several platforms at once, buildah builds
  // them in parallel and adds each as it finishes, so the index order (and so its digest) would vary run to run.
  const build = ['--isolation', 'chroot', '--format', 'oci', '--manifest', storage.manifest];
  build.push(...policy);
  if (request.timestamp !== undefined) build.push('--timestamp', String(request.timestamp));
  if (request.file) build.push('--file', request.file);
  if (request.target) build.push('--target', request.target);
  for (const value of request.buildArgs) build.push('--build-arg', value);
  for (const value of request.secrets) build.push('--secret', buildahSecret(value));
  for (const value of request.labels) build.push('--label', value);
  for (const value of request.ssh) build.push('--ssh', value);
  for (const value of request.buildContexts) build.push('--build-context', value);
  // buildah's storage is new for every build, so it holds no cache and no base image: every layer is built and every
  // base image pulled whatever these say. They are passed all the same, so the command says what was asked.
  if (request.noCache) build.push('--no-cache');
  if (request.pull) build.push('--pull=always');
  // Manifest annotations go to each platform's build; index and descriptor ones are added to the index afterwards.
  const builds = request.platforms.map((platform) => {
    const annotations = manifestAnnotationsFor(request.annotations, platform).flatMap((a) => ['--annotation', a]);
    return [...global, 'build', '--platform', platform, ...build, ...annotations, request.context];
  });
  // --all is explicit: it defaulted to false before buildah 1.38, which would push the list without its images.
  const push = [
    ...global,
    'manifest',
    'push',
    '--all',
    '--format',
    'oci',
    '--digestfile',
    storage.digestFile,
    ...policy,
  ];
  push.push(storage.manifest, `oci:${request.layoutPath}`);
  return { builds, push };
}

/** buildx's `id=X,env=VAR` is spelled `id=X,type=env,src=VAR` in every buildah release. */
function buildahSecret(value: string): string {
  const secret = parseSecret(value);
  if (secret.env) return `id=${secret.id},type=env,src=${secret.env}`;
  return `id=${secret.id},src=${secret.src}`;
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/**
 * Builds with buildah into an OCI layout, needing no daemon: vfs storage under ctx.tempDir, chroot isolation,
 * every platform into one manifest list, then `manifest push --all` to `oci:DIR`. The layout is verified and
 * must be the list buildah reports pushing (`--digestfile`). Platforms are built one after another in the order
 * asked, so the index order is stable and, with a fixed timestamp, so is the digest.
 */
export async function buildWithBuildah(ctx: BuildContext, options: BuildahOptions): Promise<BuildResult> {
  const request: BuildRequest = {
    context: resolve(options.context),
    file: options.file ? resolve(options.file) : undefined,
    platforms: uniquePlatforms(options.platforms ?? ['linux/amd64']),
    buildArgs: options.buildArgs ?? [],
    secrets: options.secrets ?? [],
    labels: options.labels ?? [],
    annotations: options.annotations ?? [],
    target: options.target,
    ssh: options.ssh ?? [],
    buildContexts: options.buildContexts ?? [],
    noCache: options.noCache ?? false,
    pull: options.pull ?? false,
    cacheFrom: [],
    cacheTo: [],
    provenance: options.provenance ?? 'false',
    sbom: options.sbom ?? 'false',
    layoutPath: '',
    timestamp: options.timestamp,
  };
  const problems = buildahProblems(request);
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  if (attestOn(request.provenance) || attestOn(request.sbom)) {
    ctx.warning(
      'buildah cannot attach provenance or SBOM attestations, so this layout has none. ' +
        'For an SBOM of the image, attach one to the pushed digest (attest-evidence does, with Syft), or use builder: buildx for BuildKit attestations; set provenance: false and sbom: false to silence this.',
    );
  }

  request.layoutPath = await prepareLayoutDir(options.layoutPath, ctx.tempDir);
  const versionRun = await ctx.runner.run('buildah', ['--version'], { env: ctx.env, silent: true });
  if (versionRun.exitCode !== 0)
    throw new UserError(`buildah --version failed (exit ${versionRun.exitCode}): ${lastLines(versionRun.stderr)}`);
  const version = /version\s+(\S+)/.exec(versionRun.stdout.toString('utf8'))?.[1] ?? 'unknown';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (request.buildContexts.length > 0 && (major < 1 || (major === 1 && minor < 28))) {
    throw new UserError(
      `Input "build-contexts": buildah ${version} has no --build-context (it came in buildah 1.28; ubuntu-24.04 runners ship 1.33). Use a newer buildah, or builder: buildx.`,
    );
  }

  await mkdir(ctx.tempDir, { recursive: true });
  const storageDir = await mkdtemp(join(ctx.tempDir, 'golden-image-buildah-'));
  const storage = {
    root: join(storageDir, 'root'),
    runroot: join(storageDir, 'run'),
    manifest: `localhost/golden-image-build-${randomBytes(6).toString('hex')}`,
    digestFile: join(storageDir, 'digest'),
    registriesConf: undefined as string | undefined,
    signaturePolicy: undefined as string | undefined,
  };
  const userConf = join(ctx.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'containers');
  // Machines without containers-common have neither file; buildah then cannot pull a base image or push at all.
  if (!firstExisting([join(userConf, 'policy.json'), '/etc/containers/policy.json'])) {
    storage.signaturePolicy = join(storageDir, 'policy.json');
    await writeFile(storage.signaturePolicy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  }
  if (!firstExisting([join(userConf, 'registries.conf'), '/etc/containers/registries.conf'])) {
    // Short names resolve as docker does (docker.io), so `FROM alpine` means the same for buildah as for buildx.
    storage.registriesConf = join(storageDir, 'registries.conf');
    await writeFile(
      storage.registriesConf,
      'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n',
    );
  }
  const args = buildahArgs(request, storage);
  try {
    for (const [i, buildArgs] of args.builds.entries()) {
      const build = await ctx.runner.run('buildah', buildArgs, { env: ctx.env });
      if (build.exitCode !== 0)
        throw new UserError(
          `buildah build for ${request.platforms[i]} failed (exit ${build.exitCode}): ${lastLines(build.stderr)}`,
        );
    }
    const push = await ctx.runner.run('buildah', args.push, { env: ctx.env });
    if (push.exitCode !== 0)
      throw new UserError(
        `buildah manifest push to ${request.layoutPath} failed (exit ${push.exitCode}): ${lastLines(push.stderr)}`,
      );
    const pushed = (await readFile(storage.digestFile, 'utf8')).trim();
    const written = await verifyLayout(request.layoutPath);
    if (written.digest !== pushed) {
      throw new UserError(
        `The layout at ${written.path} holds ${written.digest}, but buildah reports pushing ${pushed}; refusing it.`,
      );
    }
    await annotateIndex(request.layoutPath, request.annotations);
    // The layout everyone downstream trusts starts here: hash every layer too, once.
    const layout = await verifyLayout(request.layoutPath, undefined, { layers: 'digest' });
    const platforms = platformDigests(layout.manifests);
    checkPlatforms(request.platforms, platforms, 'buildah');
    const metadata = {
      builder: 'buildah',
      version,
      digest: layout.digest,
      'manifest-list': storage.manifest,
      platforms,
    };
    return { builder: 'buildah', layout, platforms, metadata };
  } finally {
    // vfs keeps a full copy of every layer: do not leave it on the runner's disk.
    await rm(storageDir, { recursive: true, force: true }).catch((error: Error) => {
      ctx.warning(`Could not remove buildah's temporary storage ${storageDir}: ${error.message}`);
    });
  }
}
