import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
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
  const java = options.java ?? false;
  const cache = await offlineTrivyCache(undefined, { ...options, javaDb: java });
  const dbDir = join(cache, java ? 'java-db' : 'db');
  const files = java ? ['trivy-java.db', 'metadata.json'] : ['trivy.db', 'metadata.json'];
  const layer = gzipSync(await tarOf(dbDir, files));
  const layout = await mkdtemp(join(tmpdir(), 'golden-image-trivy-db-artifact-'));
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const config = await put(Buffer.from('{}'));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.aquasec.trivy.config.v1+json', ...config },
      layers: [
        {
          mediaType: java ? TRIVY_JAVA_DB_MEDIA_TYPE : TRIVY_DB_MEDIA_TYPE,
          ...(await put(layer)),
          annotations: { 'org.opencontainers.image.title': java ? 'javadb.tar.gz' : 'db.tar.gz' },
        },
      ],
    }),
  );
  const tag = java ? '1' : '2';
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...(await put(manifest)),
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  const ref = `${registry.host}/${repo}:${tag}`;
  const tls = registry.caCert ? [] : ['--dest-tls-verify=false'];
  await run('skopeo', ['copy', '--quiet', ...tls, `oci:${layout}:${tag}`, `docker://${ref}`]);
  return ref;
}

async function tarOf(dir: string, names: string[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const name of names) {
    if (!readdirSync(dir).includes(name)) throw new Error(`${dir} has no ${name}`);
    pack.entry({ name, mtime: new Date(0), mode: 0o644 }, await readFile(join(dir, name)));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
