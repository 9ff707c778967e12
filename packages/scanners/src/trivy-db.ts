// Trivy's databases, pulled by digest. Each step resolves db-repository (each entry in order, Trivy's own
// repositories when empty) to a manifest digest once, then takes exactly that: the manifest's one layer, fetched
// with skopeo (or found in this job's store or the actions cache under the exact key golden-image-trivy-db-<digest>),
// re-hashed against the manifest every time, and extracted fresh into Trivy's cache directory; every scan then runs
// with --skip-db-update. Nothing cached is trusted for what it says about itself (metadata.json's NextUpdate is
// never read): a copy whose bytes do not hash to the digest chain is refused with a warning and downloaded again.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type ActionContext, lastLines, md, UserError } from '@golden-image/kit';
import { DIGEST_PATTERN, sha256Digest, sha256File } from '@golden-image/oci';
import { restoreCacheBestEffort, saveCacheBestEffort } from '@golden-image/tools';
import tar from 'tar-stream';

export type TrivyDbKind = 'vuln' | 'java';

/** What differs between Trivy's two databases (trivy pkg/db and pkg/javadb, 0.74). */
export interface TrivyDbSpec {
  kind: TrivyDbKind;
  label: string;
  /** The action input naming its repositories. */
  input: 'db-repository' | 'java-db-repository';
  /** Trivy's own repositories, tried in this order when the input is empty (`trivy image --help`, 0.74). */
  defaults: readonly string[];
  /** The tag Trivy adds to a repository named without one (the schema version). */
  defaultTag: string;
  /** The one layer's media type. */
  mediaType: string;
  /** What the layer's tar holds, and where Trivy's cache directory keeps it. */
  files: readonly [string, string];
  dir: string;
  /** The actions-cache key is this prefix and the manifest digest, exactly. */
  cachePrefix: string;
}

export const TRIVY_DBS: Readonly<Record<TrivyDbKind, TrivyDbSpec>> = {
  vuln: {
    kind: 'vuln',
    label: "Trivy's vulnerability DB",
    input: 'db-repository',
    defaults: ['mirror.gcr.io/aquasec/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2'],
    defaultTag: '2',
    mediaType: 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip',
    files: ['trivy.db', 'metadata.json'],
    dir: 'db',
    cachePrefix: 'golden-image-trivy-db-',
  },
  java: {
    kind: 'java',
    label: "Trivy's Java DB",
    input: 'java-db-repository',
    defaults: ['mirror.gcr.io/aquasec/trivy-java-db:1', 'ghcr.io/aquasecurity/trivy-java-db:1'],
    defaultTag: '1',
    mediaType: 'application/vnd.aquasec.trivy.javadb.layer.v1.tar+gzip',
    files: ['trivy-java.db', 'metadata.json'],
    dir: 'java-db',
    cachePrefix: 'golden-image-trivy-java-db-',
  },
};

/**
 * Where the DB of a scan came from. registry: resolved and downloaded in this step. actions-cache: resolved in this
 * step, the bytes from the actions cache under the exact key, checked against the digest. job: resolved in this
 * step, the bytes kept by an earlier step of this job, checked likewise. fallback: no repository could be reached;
 * the last cached copy, whose bytes match its own digest but which no registry confirmed in this step.
 */
export type TrivyDbSource = 'registry' | 'actions-cache' | 'job' | 'fallback';

export interface TrivyDbUse {
  kind: TrivyDbKind;
  label: string;
  /** HOST/PATH, without tag or digest. */
  repository: string;
  /** The manifest digest (sha256:…): what the scan used, exactly. */
  digest: string;
  /** `repository@digest`: hand it to another step's db-repository to use the very same DB. */
  ref: string;
  /** The db-repository entry resolved to the digest in this step (absent in a fallback). */
  resolvedFrom?: string;
  source: TrivyDbSource;
  /** The exact actions-cache key of this digest. */
  cacheKey: string;
  /** The digest of the manifest's one layer (the gzip tar). */
  layer: string;
  /** From the DB's own metadata.json. */
  version?: number;
  updatedAt?: string;
  nextUpdate?: string;
}

/** The actions cache as the DB code uses it; tests pass their own. */
export interface DbCache {
  restore(paths: string[], key: string, restoreKeys?: string[]): Promise<string | undefined>;
  save(paths: string[], key: string): Promise<boolean>;
}

/** The runner's actions cache, best effort (a failure is a warning; off a runner nothing happens). */
export function actionsDbCache(ctx: ActionContext, label: string): DbCache {
  return {
    restore: (paths, key, restoreKeys) => restoreCacheBestEffort(ctx, label, paths, key, restoreKeys),
    save: (paths, key) => saveCacheBestEffort(ctx, label, paths, key),
  };
}

/** One entry of db-repository: `HOST/PATH[:TAG|@sha256:…]`; no tag and no digest means Trivy's default tag. */
export interface DbReference {
  repository: string;
  tag?: string;
  digest?: string;
  /** What skopeo is asked for. */
  ref: string;
}

export function parseDbReference(entry: string, defaultTag: string): DbReference | { problem: string } {
  const text = entry.trim();
  if (!text || /\s/.test(text)) return { problem: `${JSON.stringify(entry)} is not an OCI reference` };
  const at = text.indexOf('@');
  if (at >= 0) {
    const digest = text.slice(at + 1);
    const name = text.slice(0, at).replace(/:[^/:]+$/, '');
    if (!DIGEST_PATTERN.test(digest) || !name)
      return { problem: `${JSON.stringify(entry)}: a digest reference is HOST/REPOSITORY@sha256:<64 hex digits>` };
    return { repository: name, digest, ref: `${name}@${digest}` };
  }
  const slash = text.lastIndexOf('/');
  const colon = text.lastIndexOf(':');
  if (colon > slash) {
    const repository = text.slice(0, colon);
    const tag = text.slice(colon + 1);
    if (!repository || !tag) return { problem: `${JSON.stringify(entry)} is not an OCI reference` };
    return { repository, tag, ref: text };
  }
  return { repository: text, tag: defaultTag, ref: `${text}:${defaultTag}` };
}

/** Trivy speaks plain HTTP to these without --insecure (go-containerregistry's rule); so does the suite. */
export function isLoopbackRegistry(repository: string): boolean {
  const host = repository.includes('/') ? (repository.split('/')[0] as string) : '';
  return /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/.test(host);
}

interface Resolved {
  entry: string;
  reference: DbReference;
  digest: string;
  manifest: Buffer;
  layer: { digest: string; size: number };
}

/** A registry's or a copy's problem: the entry is skipped (or the copy refused), never the step failed. */
class DbProblem extends Error {}

export interface AcquireOptions {
  spec: TrivyDbSpec;
  /** The input's entries; empty: Trivy's own repositories. */
  repositories: readonly string[];
  /** Trivy's cache directory: the DB is extracted into <cacheDir>/<spec.dir>. */
  cacheDir: string;
  /** The store of verified bytes (manifest.json, layer.tar.gz, source.json): what the actions cache holds. */
  store: string;
  /** Scratch space for downloads. */
  work: string;
  /** undefined: cache-db is false. */
  cache?: DbCache;
}

/**
 * The DB of this step: the first entry that resolves to a digest and whose layer can be had with bytes that hash
 * to it (this job's store, the actions cache under the exact key, or a download), extracted fresh. When no entry
 * can be reached, the last cached copy (with a warning saying so); with none, a UserError.
 */
export async function acquireTrivyDb(ctx: ActionContext, options: AcquireOptions): Promise<TrivyDbUse> {
  const { spec } = options;
  const entries = options.repositories.length > 0 ? options.repositories : spec.defaults;
  const failures: string[] = [];
  for (const entry of entries) {
    let resolved: Resolved;
    try {
      resolved = await resolveDb(ctx, entry, spec);
    } catch (error) {
      if (!(error instanceof DbProblem)) throw error;
      failures.push(error.message);
      continue;
    }
    const key = `${spec.cachePrefix}${resolved.digest}`;
    const ref = `${resolved.reference.repository}@${resolved.digest}`;
    ctx.info(`${spec.label}: ${entry} is ${ref}; only that digest is used.`);
    let source: TrivyDbSource | undefined;
    if (!(await storeProblem(options.store, spec, resolved.digest))) {
      source = 'job';
      ctx.info(`${spec.label}: an earlier step of this job kept ${resolved.digest}; its bytes hash to it.`);
    } else {
      await rm(options.store, { recursive: true, force: true });
      if (options.cache) {
        const hit = await options.cache.restore([options.store], key);
        if (hit) {
          // GitHub's cache service (and act's) also match the key as a prefix: only the exact key is taken.
          const problem =
            hit === key ? await storeProblem(options.store, spec, resolved.digest) : `it is the entry ${hit}`;
          if (problem) {
            ctx.warning(
              `${spec.label}: the actions cache entry ${key} is not that DB (${problem}); it is ignored and the DB is downloaded. Whoever can save cache entries in this repository made it: delete it (gh cache delete ${key}).`,
            );
            await rm(options.store, { recursive: true, force: true });
          } else {
            source = 'actions-cache';
            ctx.info(`${spec.label}: the actions cache copy of ${resolved.digest} hashes to it.`);
          }
        }
      }
      if (!source) {
        try {
          await download(ctx, resolved, spec, options);
          source = 'registry';
        } catch (error) {
          if (!(error instanceof DbProblem)) throw error;
          failures.push(error.message);
          continue;
        }
      }
    }
    const meta = await extract(options.store, join(options.cacheDir, spec.dir), spec);
    return {
      kind: spec.kind,
      label: spec.label,
      repository: resolved.reference.repository,
      digest: resolved.digest,
      ref,
      resolvedFrom: entry,
      source,
      cacheKey: key,
      layer: resolved.layer.digest,
      ...meta,
    };
  }
  return fallback(ctx, options, failures);
}

/** No entry could be had: this job's last verified copy, else the newest actions-cache entry of this DB. */
async function fallback(ctx: ActionContext, options: AcquireOptions, failures: string[]): Promise<TrivyDbUse> {
  const { spec } = options;
  const why = failures.join('; ');
  const from = options.repositories.length > 0 ? options.repositories.join(', ') : "Trivy's default repositories";
  let kept = await storeProblem(options.store, spec);
  if (kept && options.cache) {
    await rm(options.store, { recursive: true, force: true });
    // The one prefix restore (the service matches the key as a prefix): only when no registry answered, and the
    // copy must still hash to the digest in its own key.
    const hit = await options.cache.restore([options.store], `${spec.cachePrefix}sha256:`);
    if (hit?.startsWith(`${spec.cachePrefix}sha256:`)) {
      kept = await storeProblem(options.store, spec, hit.slice(spec.cachePrefix.length));
      if (kept) ctx.warning(`${spec.label}: the actions cache entry ${hit} is refused: ${kept}.`);
    }
  }
  if (kept) {
    throw new UserError(
      `${spec.label}: could not download it from ${from} and no cached copy exists: ${why}. Set ${spec.input} to a reachable mirror, or retry later (the download is rate-limited).`,
    );
  }
  const manifest = await readFile(join(options.store, 'manifest.json'));
  const digest = sha256Digest(manifest);
  const layer = (layerOf(manifest, spec) as { digest: string }).digest;
  const repository = await storedRepository(options.store);
  const meta = await extract(options.store, join(options.cacheDir, spec.dir), spec);
  const ref = `${repository}@${digest}`;
  ctx.warning(
    `${spec.label}: could not reach ${from} (${why}); scanning with the last cached copy ${ref}${meta.updatedAt ? ` (updated ${meta.updatedAt})` : ''}. Its bytes hash to that digest, but no registry confirmed the digest in this step.`,
  );
  return {
    kind: spec.kind,
    label: spec.label,
    repository,
    digest,
    ref,
    source: 'fallback',
    cacheKey: `${spec.cachePrefix}${digest}`,
    layer,
    ...meta,
  };
}

/** Saves the verified bytes under the exact key of their digest, unless they came from that key. */
export async function saveTrivyDb(ctx: ActionContext, use: TrivyDbUse, store: string, cache: DbCache): Promise<void> {
  if (use.source === 'actions-cache' || use.source === 'fallback') {
    ctx.info(`${use.label}: the actions cache already holds ${use.cacheKey}.`);
    return;
  }
  if (await storeProblem(store, TRIVY_DBS[use.kind], use.digest)) return;
  await cache.save([store], use.cacheKey);
}

/** The digest `entry` names now: its manifest read once (skopeo inspect --raw), checked to be the DB artifact. */
async function resolveDb(ctx: ActionContext, entry: string, spec: TrivyDbSpec): Promise<Resolved> {
  const reference = parseDbReference(entry, spec.defaultTag);
  if ('problem' in reference) throw new DbProblem(reference.problem);
  const result = await ctx.runner.run(
    'skopeo',
    ['inspect', '--raw', ...tlsFlag(reference.repository, '--tls-verify'), `docker://${reference.ref}`],
    { env: ctx.env, silent: true },
  );
  if (result.exitCode !== 0) throw new DbProblem(`${entry}: ${skopeoError(result.stderr)}`);
  const manifest = result.stdout;
  const digest = sha256Digest(manifest);
  if (reference.digest && digest !== reference.digest)
    throw new DbProblem(`${entry}: the registry answered with a manifest of ${digest}`);
  const layer = layerOf(manifest, spec);
  if (typeof layer === 'string') throw new DbProblem(`${entry}: ${layer}`);
  return { entry, reference, digest, manifest, layer };
}

/** The manifest's one layer of the DB's media type (what Trivy itself accepts), or what is wrong. */
function layerOf(manifest: Buffer, spec: TrivyDbSpec): { digest: string; size: number } | string {
  let parsed: { mediaType?: unknown; manifests?: unknown; layers?: unknown };
  try {
    parsed = JSON.parse(manifest.toString('utf8'));
  } catch {
    return 'its manifest is not JSON';
  }
  if (Array.isArray(parsed?.manifests)) return `it names an index, not ${spec.label}'s artifact`;
  const layers = Array.isArray(parsed?.layers) ? (parsed.layers as { mediaType?: unknown; digest?: unknown }[]) : [];
  if (layers.length !== 1 || layers[0]?.mediaType !== spec.mediaType)
    return `it is not ${spec.label}'s artifact (one layer of ${spec.mediaType})`;
  const { digest, size } = layers[0] as { digest?: unknown; size?: unknown };
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest) || typeof size !== 'number')
    return 'its layer has no sha256 digest and size';
  return { digest, size };
}

/** skopeo copy of exactly `repository@digest`; the layer re-hashed, then kept in the store with the manifest. */
async function download(ctx: ActionContext, resolved: Resolved, spec: TrivyDbSpec, options: AcquireOptions) {
  const { repository } = resolved.reference;
  const pulled = join(options.work, `pull-${spec.kind}`);
  await rm(pulled, { recursive: true, force: true });
  await mkdir(options.work, { recursive: true });
  const source = `${repository}@${resolved.digest}`;
  ctx.info(`${spec.label}: downloading ${source}.`);
  const result = await ctx.runner.run(
    'skopeo',
    [
      ...policyFlags(),
      'copy',
      '--retry-times',
      '2',
      ...tlsFlag(repository, '--src-tls-verify'),
      `docker://${source}`,
      `oci:${pulled}`,
    ],
    { env: ctx.env, silent: true },
  );
  if (result.exitCode !== 0) throw new DbProblem(`${source}: ${skopeoError(result.stderr)}`);
  const blob = join(pulled, 'blobs', 'sha256', resolved.layer.digest.slice('sha256:'.length));
  if (!existsSync(blob)) throw new DbProblem(`${source}: the copy holds no layer ${resolved.layer.digest}`);
  const got = await sha256File(blob);
  if (got !== resolved.layer.digest) throw new DbProblem(`${source}: the layer hashes to ${got}`);
  await rm(options.store, { recursive: true, force: true });
  await mkdir(options.store, { recursive: true });
  await rename(blob, join(options.store, 'layer.tar.gz'));
  await writeFile(join(options.store, 'manifest.json'), resolved.manifest);
  await writeFile(join(options.store, 'source.json'), JSON.stringify({ repository }));
  await rm(pulled, { recursive: true, force: true });
}

/**
 * What is wrong with the store's copy (undefined: nothing): the manifest must hash to `digest` (when given), be the
 * DB's artifact, and its layer must hash to the manifest's layer digest, with the manifest's size.
 */
export async function storeProblem(store: string, spec: TrivyDbSpec, digest?: string): Promise<string | undefined> {
  const manifestFile = join(store, 'manifest.json');
  const layerFile = join(store, 'layer.tar.gz');
  if (!existsSync(manifestFile) || !existsSync(layerFile)) return 'no copy';
  const manifest = await readFile(manifestFile);
  const got = sha256Digest(manifest);
  if (digest && got !== digest) return `its manifest hashes to ${got}`;
  const layer = layerOf(manifest, spec);
  if (typeof layer === 'string') return layer;
  const size = (await stat(layerFile)).size;
  const hashed = await sha256File(layerFile);
  if (hashed !== layer.digest || size !== layer.size)
    return `its layer hashes to ${hashed} (${size} bytes), the manifest says ${layer.digest} (${layer.size} bytes)`;
  return undefined;
}

async function storedRepository(store: string): Promise<string> {
  try {
    const parsed = JSON.parse(await readFile(join(store, 'source.json'), 'utf8')) as { repository?: unknown };
    if (typeof parsed.repository === 'string' && parsed.repository) return parsed.repository;
  } catch {}
  return 'unknown';
}

/**
 * The layer's two files (and nothing else) written fresh into `dir`: regular files with exactly those names at the
 * tar's root. Returns metadata.json's version and times.
 */
async function extract(
  store: string,
  dir: string,
  spec: TrivyDbSpec,
): Promise<Pick<TrivyDbUse, 'version' | 'updatedAt' | 'nextUpdate'>> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const wanted = new Set<string>(spec.files);
  const written = new Set<string>();
  const extractor = tar.extract();
  extractor.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (header.type === 'file' && wanted.has(name) && !written.has(name)) {
      written.add(name);
      pipeline(stream, createWriteStream(join(dir, name), { mode: 0o644 })).then(() => next(), next);
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  try {
    await pipeline(createReadStream(join(store, 'layer.tar.gz')), createGunzip(), extractor);
  } catch (error) {
    throw new UserError(`${spec.label}: its layer is not a readable gzip tar: ${(error as Error).message}`);
  }
  const missing = spec.files.filter((file) => !written.has(file));
  if (missing.length > 0) throw new UserError(`${spec.label}: its layer holds no ${missing.join(' or ')}.`);
  try {
    const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
    return {
      ...(typeof meta.Version === 'number' ? { version: meta.Version } : {}),
      ...(text(meta.UpdatedAt) ? { updatedAt: text(meta.UpdatedAt) } : {}),
      ...(text(meta.NextUpdate) ? { nextUpdate: text(meta.NextUpdate) } : {}),
    };
  } catch {
    return {};
  }
}

function tlsFlag(repository: string, flag: string): string[] {
  return isLoopbackRegistry(repository) ? [`${flag}=false`] : [];
}

/** Without a signature policy skopeo refuses to copy; runners and Debian ship one, minimal containers may not. */
function policyFlags(): string[] {
  const policies = ['/etc/containers/policy.json', join(homedir(), '.config/containers/policy.json')];
  return policies.some((path) => existsSync(path)) ? [] : ['--insecure-policy'];
}

function skopeoError(stderr: string): string {
  const fatal = stderr
    .split('\n')
    .reverse()
    .find((line) => /level=fatal|^Error|error/i.test(line));
  return (fatal ?? lastLines(stderr))
    .replace(/^time="[^"]*" level=fatal msg=/, '')
    .replace(/^"|"$/g, '')
    .trim();
}

/** One line per DB for a job summary: which digest was scanned with, where from, and how it was checked. */
export function trivyDbSummary(uses: readonly TrivyDbUse[]): string {
  if (uses.length === 0) return '';
  const how: Record<TrivyDbSource, string> = {
    registry: 'downloaded in this step',
    'actions-cache': 'from the actions cache, its bytes checked against that digest',
    job: 'kept by an earlier step of this job, its bytes checked against that digest',
    fallback:
      '**the last cached copy: no repository could be reached, so no registry confirmed this digest in this step**',
  };
  const lines = uses.map(
    (use) =>
      `- ${use.label}: ${md.code(use.ref)}${use.resolvedFrom ? `, resolved from ${md.code(use.resolvedFrom)}` : ''}; ${how[use.source]}${use.updatedAt ? `; updated ${use.updatedAt}` : ''}.`,
  );
  return `\n${lines.join('\n')}\n`;
}
