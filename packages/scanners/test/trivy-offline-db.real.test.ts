import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  advisoriesWithout,
  offlineTrivyCache,
  pushProjectTrivyDb,
  pushTrivyDbArtifact,
  realTool,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

const trivy = realTool('trivy');
const maybe = trivy ? describe : describe.skip;

/** A rootfs with the Alpine files Trivy detects the OS and the apk packages from. */
function alpineRootfs(muslVersion: string): string {
  const root = mkdtempSync(join(tmpdir(), 'golden-image-rootfs-'));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'lib', 'apk', 'db'), { recursive: true });
  writeFileSync(join(root, 'etc', 'alpine-release'), '3.20.3\n');
  writeFileSync(join(root, 'lib', 'apk', 'db', 'installed'), `P:musl\nV:${muslVersion}\nA:x86_64\no:musl\n\n`);
  return root;
}

function scan(target: string, args: string[]): { code: number; ids: string[]; stderr: string } {
  const home = mkdtempSync(join(tmpdir(), 'golden-image-trivy-home-'));
  const output = join(home, 'report.json');
  try {
    execFileSync(
      trivy as string,
      [
        'rootfs',
        '--skip-version-check',
        '--disable-telemetry',
        '--scanners',
        'vuln',
        '-f',
        'json',
        '-o',
        output,
        '-q',
        ...args,
        target,
      ],
      { env: { PATH: process.env.PATH, HOME: home }, cwd: home, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    const { status, stderr } = error as { status: number; stderr: Buffer };
    return { code: status, ids: [], stderr: stderr.toString() };
  }
  const report = JSON.parse(readFileSync(output, 'utf8')) as {
    Results?: { Vulnerabilities?: { VulnerabilityID: string }[] }[];
  };
  const ids = (report.Results ?? []).flatMap((r) => (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID));
  return { code: 0, ids, stderr: '' };
}

maybe("the project's offline Trivy DB, with the real trivy", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('offlineTrivyCache: --skip-db-update scans with it; the advisories decide what is found', async () => {
    const cache = await offlineTrivyCache();
    expect(scan(alpineRootfs('1.2.5-r0'), ['--cache-dir', cache, '--skip-db-update'])).toEqual({
      code: 0,
      ids: ['CVE-2099-1001'],
      stderr: '',
    });
    expect(scan(alpineRootfs('1.2.5-r1'), ['--cache-dir', cache, '--skip-db-update']).ids).toEqual([]);
  });

  test('pushTrivyDbArtifact: --db-repository pulls it from the local registry into an empty cache', async () => {
    const ref = await pushTrivyDbArtifact(registry, 'golden-image/trivy-db');
    expect(ref).toBe(`${registry.host}/golden-image/trivy-db:2`);
    const cache = mkdtempSync(join(tmpdir(), 'golden-image-trivy-empty-cache-'));
    const result = scan(alpineRootfs('1.2.5-r0'), ['--cache-dir', cache, '--db-repository', ref]);
    expect(result.ids).toEqual(['CVE-2099-1001']);
    // Trivy stamps DownloadedAt when it has pulled a DB (the artifact says 2026-01-01).
    const meta = JSON.parse(readFileSync(join(cache, 'db', 'metadata.json'), 'utf8'));
    expect(meta).toMatchObject({ Version: 2, UpdatedAt: '2026-01-01T00:00:00Z' });
    expect(Date.parse(meta.DownloadedAt)).toBeGreaterThan(Date.parse('2026-01-02T00:00:00Z'));
  });

  test('an empty cache with --skip-db-update is the error Trivy documents', () => {
    const cache = mkdtempSync(join(tmpdir(), 'golden-image-trivy-empty-cache-'));
    const result = scan(alpineRootfs('1.2.5-r0'), ['--cache-dir', cache, '--skip-db-update']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--skip-db-update cannot be specified on the first run');
  });

  // Why the suite pulls the DB itself (src/trivy-db.ts) rather than handing Trivy a digest: Trivy 0.74 takes
  // --db-repository REPO@DIGEST, but a cache whose metadata.json says the DB is current is used whatever it holds.
  test('Trivy takes --db-repository REPO@DIGEST, yet trusts a cached metadata.json over the digest it was asked for', async () => {
    const db = await pushProjectTrivyDb(registry, 'golden-image/trivy-db-by-digest');
    const byDigest = `${registry.host}/golden-image/trivy-db-by-digest@${db.digest}`;
    const empty = mkdtempSync(join(tmpdir(), 'golden-image-trivy-empty-cache-'));
    expect(scan(alpineRootfs('1.2.5-r0'), ['--cache-dir', empty, '--db-repository', byDigest]).ids).toEqual([
      'CVE-2099-1001',
    ]);
    // A planted cache: a DB without the advisory, metadata saying it is current (NextUpdate 2099, as the
    // project's DB writer stamps it). Asked for the digest above, Trivy downloads nothing and misses the finding.
    const planted = await offlineTrivyCache(undefined, { advisories: advisoriesWithout(['CVE-2099-1001']) });
    expect(scan(alpineRootfs('1.2.5-r0'), ['--cache-dir', planted, '--db-repository', byDigest])).toEqual({
      code: 0,
      ids: [],
      stderr: '',
    });
  });
});
