import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../fixtures.js';
import { projectGoTool } from '../project-go-tool.js';
import type { TestRegistry } from '../registry.js';

const run = promisify(execFile);
/** The advisories the DB is made of, kept as text (bolt-fixtures YAML, as in Trivy's integration tests). */
export const TRIVY_ADVISORIES = join(repoRoot, 'test', 'fixtures', 'advisories', 'trivy');

export interface OfflineDbOptions {
  /** Also write java-db/ (an empty Java DB: Trivy then finds JARs by their pom.properties). */
  javaDb?: boolean;
  /** metadata.json UpdatedAt (default 2026-01-01T00:00:00Z). */
  updatedAt?: string;
  /** metadata.json NextUpdate (default 2099: never stale). A past time makes Trivy try to update the DB. */
  nextUpdate?: string;
  /** Another advisories directory of the same layout (default TRIVY_ADVISORIES): a DB from a later day. */
  advisories?: string;
}

/**
 * The project's DB writer (packages/testkit/programs/trivy-db), built with `go build` once into the real-tools bin directory and
 * rebuilt when its sources change.
 */
export function trivyDbTool(): Promise<string> {
  return projectGoTool('trivy-db');
}

/**
 * A Trivy cache directory whose db/ (trivy.db, metadata.json) holds the project's advisories: ready for
 * `--cache-dir DIR --skip-db-update`. Returns DIR (a fresh temporary directory when none is given).
 */
export async function offlineTrivyCache(dir?: string, options: OfflineDbOptions = {}): Promise<string> {
  const out = dir ?? (await mkdtemp(join(tmpdir(), 'golden-image-trivy-cache-')));
  const args = ['-advisories', options.advisories ?? TRIVY_ADVISORIES, '-out', out];
  if (options.updatedAt) args.push('-updated-at', options.updatedAt);
  if (options.nextUpdate) args.push('-next-update', options.nextUpdate);
  if (options.javaDb) args.push('-java-db');
  await run(await trivyDbTool(), args);
  return out;
}

/** The layer media types Trivy's --db-repository and --java-db-repository accept (pkg/db, pkg/javadb). */
export const TRIVY_DB_MEDIA_TYPE = 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip';
export const TRIVY_JAVA_DB_MEDIA_TYPE = 'application/vnd.aquasec.trivy.javadb.layer.v1.tar+gzip';

/**
 * Pushes the project's DB to `registry` as the OCI artifact Trivy's --db-repository pulls: one layer of
 * TRIVY_DB_MEDIA_TYPE titled db.tar.gz, a gzip tar of trivy.db and metadata.json (with `java: true`, the Java DB
 * for --java-db-repository: TRIVY_JAVA_DB_MEDIA_TYPE, javadb.tar.gz). Written as an OCI layout, copied with skopeo.
 * Returns the reference to hand to db-repository (`HOST/REPO:2`; `:1` for the Java DB).
 */
export async function pushTrivyDbArtifact(
  registry: TestRegistry,
  repo: string,
  options: OfflineDbOptions & { java?: boolean } = {},
): Promise<string> {
  return (await pushProjectTrivyDb(registry, repo, options)).ref;
}

/** pushTrivyDbArtifact, with the manifest digest, the layer and the manifest's bytes. */
export async function pushProjectTrivyDb(
  registry: TestRegistry,
  repo: string,
  options: OfflineDbOptions & { java?: boolean } = {},
): Promise<PushedTrivyDb> {
  const java = options.java ?? false;
  return pushTrivyDbFiles(registry, repo, await projectTrivyDbFiles({ ...options, java }), { java });
}

/** The files of the project's DB (trivy.db and metadata.json; with java, the Java DB's), as its layer holds them. */
export async function projectTrivyDbFiles(
  options: OfflineDbOptions & { java?: boolean } = {},
): Promise<Record<string, Buffer>> {
  const java = options.java ?? false;
  const cache = await offlineTrivyCache(undefined, { ...options, javaDb: java });
  const dbDir = join(cache, java ? 'java-db' : 'db');
  const names = java ? ['trivy-java.db', 'metadata.json'] : ['trivy.db', 'metadata.json'];
  const files: Record<string, Buffer> = {};
  for (const name of names) {
    if (!readdirSync(dbDir).includes(name)) throw new Error(`${dbDir} has no ${name}`);
    files[name] = await readFile(join(dbDir, name));
  }
  return files;
}

/**
 * A copy of the project's advisories without the given IDs (in every bucket): the advisories of a DB that misses
 * them, as a planted cache entry would. Returns the directory, for OfflineDbOptions.advisories.
 */
export function advisoriesWithout(ids: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-advisories-'));
  const drop = (pairs: unknown): unknown =>
    Array.isArray(pairs)
      ? pairs
          .filter((pair) => !ids.includes((pair as { key?: string }).key ?? ''))
          .map((pair) => {
            const entry = pair as { pairs?: unknown };
            return entry.pairs ? { ...entry, pairs: drop(entry.pairs) } : entry;
          })
      : pairs;
  for (const name of readdirSync(TRIVY_ADVISORIES)) {
    const text = readFileSync(join(TRIVY_ADVISORIES, name), 'utf8');
    writeFileSync(join(dir, name), name.endsWith('.yaml') ? stringify(drop(parse(text))) : text);
  }
  return dir;
}

/** What the trivy double takes for a DB (test/doubles/bin/trivy: both files there, any content). */
export function doubleTrivyDbFiles(updatedAt = '2026-01-01T00:00:00Z'): Record<string, Buffer> {
  return {
    'trivy.db': Buffer.from('bolt double'),
    'metadata.json': Buffer.from(
      JSON.stringify({ Version: 2, NextUpdate: '2099-01-01T00:00:00Z', UpdatedAt: updatedAt }),
    ),
  };
}

/** The DB layer as Trivy's artifact carries it: a gzip tar of `files` at its root. */
export async function trivyDbLayer(files: Record<string, Buffer | string>): Promise<Buffer> {
  return gzipSync(await tarOf(files));
}

export interface PushedTrivyDb {
  /** `HOST/REPO:TAG`, for db-repository. */
  ref: string;
  /** The manifest digest the tag names. */
  digest: string;
  /** The layer's digest and its bytes. */
  layer: { digest: string; bytes: Buffer };
  /** The manifest's exact bytes. */
  manifest: Buffer;
}

/**
 * Pushes `files` as a Trivy DB artifact (trivyDbLayer as its one layer, the media types and title Trivy's own
 * artifact has) under `tag` (default 2, or 1 with java).
 */
export async function pushTrivyDbFiles(
  registry: TestRegistry,
  repo: string,
  files: Record<string, Buffer | string>,
  options: { java?: boolean; tag?: string } = {},
): Promise<PushedTrivyDb> {
  const java = options.java ?? false;
  const layer = await trivyDbLayer(files);
  const layout = await mkdtemp(join(tmpdir(), 'golden-image-trivy-db-artifact-'));
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const config = await put(Buffer.from('{}'));
  const layerDescriptor = await put(layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.aquasec.trivy.config.v1+json', ...config },
      layers: [
        {
          mediaType: java ? TRIVY_JAVA_DB_MEDIA_TYPE : TRIVY_DB_MEDIA_TYPE,
          ...layerDescriptor,
          annotations: { 'org.opencontainers.image.title': java ? 'javadb.tar.gz' : 'db.tar.gz' },
        },
      ],
    }),
  );
  const tag = options.tag ?? (java ? '1' : '2');
  const described = await put(manifest);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...described,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  const ref = `${registry.host}/${repo}:${tag}`;
  const tls = registry.caCert ? [] : ['--dest-tls-verify=false'];
  await run('skopeo', ['copy', '--quiet', '--preserve-digests', ...tls, `oci:${layout}:${tag}`, `docker://${ref}`]);
  return { ref, digest: described.digest, layer: { digest: layerDescriptor.digest, bytes: layer }, manifest };
}

async function tarOf(files: Record<string, Buffer | string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const [name, bytes] of Object.entries(files)) {
    pack.entry({ name, mtime: new Date(0), mode: 0o644 }, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
