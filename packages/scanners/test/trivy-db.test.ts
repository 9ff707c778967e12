// Trivy's DB, pulled by digest (src/trivy-db.ts): resolved once per step, taken only by that digest from this
// job's store, the actions cache under the exact key, or the registry, re-hashed every time; the last cached copy
// only when no repository can be reached, and then said so. A real registry and skopeo; the actions cache is the
// testkit's DirCache (its rules: immutable entries, exact key first, then prefixes, the same paths).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecRunner, type RunResult, type ToolRunner, UserError } from '@golden-image/kit';
import {
  createTestContext,
  DirCache,
  doubleTrivyDbFiles,
  type PushedTrivyDb,
  pushTrivyDbFiles,
  RecordingRunner,
  startRegistry,
  type TestRegistry,
  tempDir,
  trivyDbLayer,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  closeTrivySession,
  openTrivySession,
  parseDbReference,
  TRIVY_DBS,
  trivyDbSummary,
  trivyDbsUsed,
} from '../src/index.js';

let registry: TestRegistry;
let first: PushedTrivyDb;
let second: PushedTrivyDb;
const TRIVY = 'trivy-not-run-here';

beforeAll(async () => {
  registry = await startRegistry();
  first = await pushTrivyDbFiles(registry, 'mirror/trivy-db', doubleTrivyDbFiles('2026-01-01T00:00:00Z'));
  second = await pushTrivyDbFiles(registry, 'mirror/trivy-db-later', doubleTrivyDbFiles('2026-02-01T00:00:00Z'));
});
afterAll(async () => {
  await registry?.stop();
});

/** A fresh job on the same runner: RUNNER_TEMP is the same path (as on GitHub), emptied. */
const nextJob = (temp: string) => {
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  return temp;
};
const store = (tempDir: string) => join(tempDir, 'golden-image-trivy', 'store', 'db');
const extracted = (tempDir: string, file = 'metadata.json') =>
  readFileSync(join(tempDir, 'golden-image-trivy', 'cache', 'db', file), 'utf8');

/** One step: a session opened and closed in `temp` (a job's RUNNER_TEMP), with a recording runner. */
async function step(options: { repositories: string[]; cache?: DirCache; temp?: string; runner?: ToolRunner }) {
  const runner = new RecordingRunner(options.runner ?? new ExecRunner());
  const temp = options.temp ?? tempDir('golden-image-db-step-');
  const { ctx, recorded } = createTestContext({}, { runner, tempDir: temp });
  const session = await openTrivySession(ctx, TRIVY, {
    dbRepository: options.repositories,
    cacheDb: options.cache !== undefined,
    ...(options.cache ? { cache: options.cache } : {}),
  });
  await closeTrivySession(ctx, session);
  const [use] = trivyDbsUsed(session);
  return { use: use as NonNullable<typeof use>, recorded, runner, temp };
}

describe('resolution: once per step, to a digest', () => {
  test('a tag is read once (skopeo inspect --raw) and exactly that digest is copied; Trivy is never asked', async () => {
    const { use, runner, recorded, temp } = await step({ repositories: [first.ref] });
    expect(use).toMatchObject({
      repository: `${registry.host}/mirror/trivy-db`,
      digest: first.digest,
      ref: `${registry.host}/mirror/trivy-db@${first.digest}`,
      resolvedFrom: first.ref,
      source: 'registry',
      cacheKey: `golden-image-trivy-db-${first.digest}`,
      layer: first.layer.digest,
      version: 2,
      updatedAt: '2026-01-01T00:00:00Z',
    });
    expect(runner.calls.map((call) => [call.tool, call.args.find((a) => a.startsWith('docker://'))])).toEqual([
      ['skopeo', `docker://${first.ref}`],
      ['skopeo', `docker://${registry.host}/mirror/trivy-db@${first.digest}`],
    ]);
    expect(runner.calls[0]?.args).toEqual(expect.arrayContaining(['inspect', '--raw', '--tls-verify=false']));
    expect(extracted(temp, 'trivy.db')).toBe('bolt double');
    expect(recorded.warnings).toEqual([]);
    expect(trivyDbSummary([use])).toContain(`${registry.host}/mirror/trivy-db@${first.digest}`);
  });

  test('entries are tried in order; a digest reference is taken as is, and one the registry lacks is skipped', async () => {
    const missing = `${registry.host}/mirror/trivy-db@sha256:${'0'.repeat(64)}`;
    const pinned = `${registry.host}/mirror/trivy-db-later@${second.digest}`;
    const { use, recorded } = await step({ repositories: [`${registry.host}/mirror/none:2`, missing, pinned] });
    expect(use).toMatchObject({ digest: second.digest, resolvedFrom: pinned, source: 'registry' });
    expect(recorded.warnings).toEqual([]);
  });

  test("empty db-repository: Trivy's own repositories, in Trivy's order (mirror.gcr.io, then ghcr.io)", async () => {
    const offline: ToolRunner = {
      run: async (): Promise<RunResult> => ({
        exitCode: 1,
        stdout: Buffer.from(''),
        stderr: 'time="x" level=fatal msg="pinging container registry: dial tcp: lookup: no such host"\n',
      }),
    };
    const error = await step({ repositories: [], runner: offline }).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(
      /^Trivy's vulnerability DB: could not download it from Trivy's default repositories and no cached copy exists: mirror\.gcr\.io\/aquasec\/trivy-db:2: pinging container registry: .*no such host; ghcr\.io\/aquasecurity\/trivy-db:2: .*Set db-repository to a reachable mirror/,
    );
    expect(TRIVY_DBS.vuln.defaults).toEqual(['mirror.gcr.io/aquasec/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2']);
    expect(TRIVY_DBS.java.defaults).toEqual([
      'mirror.gcr.io/aquasec/trivy-java-db:1',
      'ghcr.io/aquasecurity/trivy-java-db:1',
    ]);
  });

  test('references: a tag, none (the schema version, as Trivy adds it), a digest', () => {
    expect(parseDbReference('mirror.example/trivy-db:2', '2')).toEqual({
      repository: 'mirror.example/trivy-db',
      tag: '2',
      ref: 'mirror.example/trivy-db:2',
    });
    expect(parseDbReference('localhost:5000/trivy-db', '2')).toEqual({
      repository: 'localhost:5000/trivy-db',
      tag: '2',
      ref: 'localhost:5000/trivy-db:2',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseDbReference(`mirror.example/trivy-db:2@${digest}`, '2')).toEqual({
      repository: 'mirror.example/trivy-db',
      digest,
      ref: `mirror.example/trivy-db@${digest}`,
    });
    expect(parseDbReference('mirror.example/trivy-db@sha256:abc', '2')).toHaveProperty('problem');
  });

  test('an artifact that is not the DB (another media type) is refused, and the next entry used', async () => {
    const other = await pushTrivyDbFiles(registry, 'mirror/not-a-db', doubleTrivyDbFiles(), { java: true, tag: '2' });
    const { use } = await step({ repositories: [other.ref, first.ref] });
    expect(use.digest).toBe(first.digest);
  });
});

describe('the actions cache: exact key only, re-hashed after restore', () => {
  test('saved under golden-image-trivy-db-<digest>; the next job restores exactly that key, checks it, downloads nothing', async () => {
    const cache = new DirCache();
    const one = await step({ repositories: [first.ref], cache });
    expect(cache.saves).toEqual([{ key: `golden-image-trivy-db-${first.digest}`, saved: true }]);
    const metadata = extracted(one.temp);
    const two = await step({ repositories: [first.ref], cache, temp: nextJob(one.temp) });
    expect(two.use.source).toBe('actions-cache');
    expect(cache.restores.at(-1)).toEqual({
      key: `golden-image-trivy-db-${first.digest}`,
      restoreKeys: [],
      hit: `golden-image-trivy-db-${first.digest}`,
    });
    expect(two.runner.of('skopeo', 'copy')).toEqual([]);
    expect(two.runner.of('skopeo', 'inspect')).toHaveLength(1);
    expect(extracted(two.temp)).toBe(metadata);
    // Nothing is saved again under a key the cache already holds.
    expect(cache.saves).toHaveLength(1);
  });

  test('a later step of the same job takes the copy the first kept, after hashing it again', async () => {
    const first_ = await step({ repositories: [first.ref] });
    const again = await step({ repositories: [first.ref], temp: first_.temp });
    expect(again.use.source).toBe('job');
    expect(again.runner.of('skopeo', 'copy')).toEqual([]);
  });

  test('a planted entry under the exact key (another layer) is refused with a warning; the registry copy is scanned', async () => {
    const cache = new DirCache();
    const planted = tempDir('golden-image-planted-');
    writeFileSync(join(planted, 'manifest.json'), first.manifest);
    writeFileSync(
      join(planted, 'layer.tar.gz'),
      await trivyDbLayer({ 'trivy.db': 'no advisories at all', 'metadata.json': '{"Version":2}' }),
    );
    const temp = tempDir('golden-image-db-step-');
    cache.plant(`golden-image-trivy-db-${first.digest}`, [store(temp)], () => planted);
    const { use, recorded, runner } = await step({ repositories: [first.ref], cache, temp });
    expect(use.source).toBe('registry');
    expect(recorded.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Trivy's vulnerability DB: the actions cache entry golden-image-trivy-db-${first.digest} is not that DB \\(its layer hashes to sha256:[0-9a-f]{64} .*the manifest says ${first.layer.digest}.*\\); it is ignored and the DB is downloaded`,
        ),
      ),
    ]);
    expect(runner.of('skopeo', 'copy')).toHaveLength(1);
    expect(extracted(temp, 'trivy.db')).toBe('bolt double');
    // The planted entry keeps the key (entries are immutable): the save is refused, and every run downloads.
    expect(cache.saves).toEqual([{ key: `golden-image-trivy-db-${first.digest}`, saved: false }]);
  });

  test('a planted manifest with its own layer under the exact key is refused: the manifest does not hash to the key', async () => {
    const cache = new DirCache();
    const planted = tempDir('golden-image-planted-');
    const layer = await trivyDbLayer({ 'trivy.db': 'no advisories at all', 'metadata.json': '{"Version":2}' });
    const manifest = JSON.parse(first.manifest.toString()) as { layers: { digest: string; size: number }[] };
    const { createHash } = await import('node:crypto');
    manifest.layers[0] = {
      ...manifest.layers[0],
      digest: `sha256:${createHash('sha256').update(layer).digest('hex')}`,
      size: layer.length,
    };
    writeFileSync(join(planted, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(planted, 'layer.tar.gz'), layer);
    const temp = tempDir('golden-image-db-step-');
    cache.plant(`golden-image-trivy-db-${first.digest}`, [store(temp)], () => planted);
    const { use, recorded } = await step({ repositories: [first.ref], cache, temp });
    expect(use.source).toBe('registry');
    expect(recorded.warnings[0]).toMatch(/is not that DB \(its manifest hashes to sha256:/);
    expect(extracted(temp, 'trivy.db')).toBe('bolt double');
  });

  test("entries under the old date key, or any other key, are never restored: only the resolved digest's", async () => {
    const cache = new DirCache();
    const temp = tempDir('golden-image-db-step-');
    const planted = tempDir('golden-image-planted-');
    mkdirSync(join(planted, 'db'), { recursive: true });
    const day = new Date().toISOString().slice(0, 10);
    cache.plant(`golden-image-trivy-db-v2-${day}`, [store(temp)], () => planted);
    cache.plant(`golden-image-trivy-db-${second.digest}`, [store(temp)], () => planted);
    const { use } = await step({ repositories: [first.ref], cache, temp });
    expect(use.source).toBe('registry');
    expect(cache.restores).toEqual([{ key: `golden-image-trivy-db-${first.digest}`, restoreKeys: [] }]);
  });

  test('an entry whose key only starts with the exact key (the service matches prefixes too) is not taken', async () => {
    const cache = new DirCache();
    const temp = tempDir('golden-image-db-step-');
    const planted = tempDir('golden-image-planted-');
    writeFileSync(join(planted, 'manifest.json'), first.manifest);
    writeFileSync(join(planted, 'layer.tar.gz'), await trivyDbLayer({ 'trivy.db': 'x', 'metadata.json': '{}' }));
    cache.plant(`golden-image-trivy-db-${first.digest}-newer`, [store(temp)], () => planted);
    const { use, recorded } = await step({ repositories: [first.ref], cache, temp });
    expect(cache.restores[0]?.hit).toBe(`golden-image-trivy-db-${first.digest}-newer`);
    expect(use.source).toBe('registry');
    expect(recorded.warnings[0]).toMatch(
      /is not that DB \(it is the entry golden-image-trivy-db-sha256:[0-9a-f]{64}-newer\)/,
    );
    expect(extracted(temp, 'trivy.db')).toBe('bolt double');
  });

  test('a copy kept for one digest is not used when the tag names another now (the DB moved on)', async () => {
    const cache = new DirCache();
    const temp = tempDir('golden-image-db-step-');
    await step({ repositories: [first.ref], cache, temp });
    const moved = await pushTrivyDbFiles(
      registry,
      'mirror/trivy-db-moving',
      doubleTrivyDbFiles('2026-03-01T00:00:00Z'),
    );
    const { use } = await step({ repositories: [moved.ref], cache, temp });
    expect(use).toMatchObject({ digest: moved.digest, source: 'registry', updatedAt: '2026-03-01T00:00:00Z' });
  });
});

describe('fallback: no repository can be reached', () => {
  const unreachable = () => `127.0.0.1:9/mirror/trivy-db:2`;

  test('the last cached copy, with a warning naming its digest and saying no registry confirmed it', async () => {
    const cache = new DirCache();
    const { temp } = await step({ repositories: [first.ref], cache });
    const { use, recorded } = await step({ repositories: [unreachable()], cache, temp: nextJob(temp) });
    expect(use).toMatchObject({
      digest: first.digest,
      source: 'fallback',
      repository: `${registry.host}/mirror/trivy-db`,
    });
    expect(use.resolvedFrom).toBeUndefined();
    expect(cache.restores.at(-1)).toEqual({
      key: 'golden-image-trivy-db-sha256:',
      restoreKeys: [],
      hit: `golden-image-trivy-db-${first.digest}`,
    });
    expect(recorded.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Trivy's vulnerability DB: could not reach 127\\.0\\.0\\.1:9/mirror/trivy-db:2 \\(.*\\); scanning with the last cached copy ${registry.host}/mirror/trivy-db@${first.digest} \\(updated 2026-01-01T00:00:00Z\\)\\. Its bytes hash to that digest, but no registry confirmed the digest in this step\\.`,
        ),
      ),
    ]);
    expect(trivyDbSummary([use])).toContain('no registry confirmed this digest');
  });

  test('a fallback entry whose bytes do not hash to its own key is refused: the step fails, nothing is scanned', async () => {
    const cache = new DirCache();
    const temp = tempDir('golden-image-db-step-');
    const planted = tempDir('golden-image-planted-');
    writeFileSync(join(planted, 'manifest.json'), first.manifest);
    writeFileSync(join(planted, 'layer.tar.gz'), await trivyDbLayer({ 'trivy.db': 'x', 'metadata.json': '{}' }));
    cache.plant(`golden-image-trivy-db-${first.digest}`, [store(temp)], () => planted);
    const error = await step({ repositories: [unreachable()], cache, temp }).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(
      /could not download it from 127\.0\.0\.1:9\/mirror\/trivy-db:2 and no cached copy exists/,
    );
    expect(existsSync(join(temp, 'golden-image-trivy', 'cache', 'db', 'trivy.db'))).toBe(false);
  });

  test('cache-db false and no copy: one error naming db-repository', async () => {
    const error = await step({ repositories: [unreachable()] }).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/Set db-repository to a reachable mirror/);
  });
});

describe('extraction', () => {
  test('only the two files at the root are written; other entries (paths outside, extra files) are skipped', async () => {
    const odd = await pushTrivyDbFiles(registry, 'mirror/odd-db', {
      ...doubleTrivyDbFiles(),
      '../escape': 'outside',
      'nested/trivy.db': 'not this one',
      'extra.txt': 'ignored',
    });
    const { temp } = await step({ repositories: [odd.ref] });
    expect(extracted(temp, 'trivy.db')).toBe('bolt double');
    expect(existsSync(join(temp, 'golden-image-trivy', 'cache', 'escape'))).toBe(false);
    expect(existsSync(join(temp, 'golden-image-trivy', 'cache', 'db', 'extra.txt'))).toBe(false);
  });

  test('a layer without trivy.db is an error, not an empty scan', async () => {
    const empty = await pushTrivyDbFiles(registry, 'mirror/empty-db', { 'metadata.json': '{"Version":2}' });
    const error = await step({ repositories: [empty.ref] }).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe("Trivy's vulnerability DB: its layer holds no trivy.db.");
  });
});
