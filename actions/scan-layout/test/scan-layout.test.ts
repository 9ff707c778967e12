import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import {
  createTestContext,
  DirCache,
  doubleTrivyDbFiles,
  type PushedTrivyDb,
  pushTrivyDbFiles,
  startRegistry,
  type TestRegistry,
  untarBuildxLayout,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN, readInvocations, THIRD_PARTY, useDoublesOnPath } from '../../../test/doubles/lib/harness.js';
import { recording } from '../../../test/doubles/recordings.js';
import { main } from '../main.js';

const root = mkdtempSync(join(tmpdir(), 'scan-layout-test-'));
let layout: string;
const topIndex = JSON.parse(
  readFileSync(`${THIRD_PARTY}buildx/oci-layout-multiplatform-attestations.index.json`, 'utf8'),
);
const DIGEST: string = topIndex.manifests[0].digest;
// The nested index exactly as stored: two platform manifests, then two attestation manifests.
const nested = JSON.parse(
  readFileSync(`${THIRD_PARTY}buildx/oci-layout-multiplatform-attestations.image-index.json`, 'utf8'),
);
const PLATFORMS = (nested.manifests as { digest: string; platform: { os: string; architecture: string } }[])
  .filter((m) => m.platform.os !== 'unknown')
  .map((m) => ({ platform: `${m.platform.os}/${m.platform.architecture}`, digest: m.digest }));

// Recordings of the pinned Trivy (test/doubles/recordings.ts): every severity, and both clean shapes.
const ALPINE_ALL = recording('trivy', 'alpine-all-severities');
const CLEAN = recording('trivy', 'alpine-amd64-clean');
const NO_RESULTS = recording('trivy', 'fs-empty');
let restorePath: () => void;
const savedEnv = { ...process.env };
// The DB the doubles take, served as Trivy's artifact by a real registry: the suite pulls it by digest.
let registry: TestRegistry;
let db: PushedTrivyDb;

beforeAll(async () => {
  registry = await startRegistry();
  db = await pushTrivyDbFiles(registry, 'mirror/trivy-db', doubleTrivyDbFiles());
  layout = untarBuildxLayout().path;
  restorePath = useDoublesOnPath();
  delete process.env.ACTIONS_CACHE_URL;
  delete process.env.ACTIONS_RESULTS_URL;
});

afterAll(async () => {
  restorePath();
  process.env = { ...savedEnv };
  await registry?.stop();
});

function run(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  prepare?: (tempDir: string) => void,
  at?: string,
) {
  const workspace = mkdtempSync(join(root, 'ws-'));
  const tempDir = at ?? mkdtempSync(join(root, 'tmp-'));
  prepare?.(tempDir);
  const log = join(tempDir, 'doubles.log');
  const { ctx, recorded } = createTestContext(
    { 'layout-path': layout, digest: DIGEST, 'install-tools': 'false', 'db-repository': db.ref, ...inputs },
    { env: { ...process.env, GITHUB_WORKSPACE: workspace, DOUBLE_LOG: log, ...env }, tempDir },
  );
  return { ctx, recorded, workspace, tempDir, calls: () => readInvocations(log) };
}

const perPlatform = JSON.stringify({ 'linux/amd64': ALPINE_ALL, 'linux/arm64': CLEAN });

describe('scan-layout on the real buildx multi-platform layout', () => {
  test('the fixture really is multi-platform with attestations', () => {
    expect(PLATFORMS.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(nested.manifests).toHaveLength(4);
  });

  test('runs Trivy once per platform, each on a layout naming exactly that one manifest; the DB pulled once, by digest', async () => {
    const { ctx, recorded, calls } = run({}, { TRIVY_DOUBLE_FIXTURE: perPlatform });
    const error = await main(ctx).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/scan-layout: 2 finding\(s\) at HIGH,CRITICAL in sha256:5ac2d3ac.* \(linux\/amd64\)/);

    const invocations = calls();
    // Trivy downloads nothing: the suite pulled the DB by digest, and every scan skips the update.
    expect(invocations.map((c) => c.mode)).toEqual(['scan', 'scan']);
    // The platforms are scanned at once: the log's order is the order they finished in.
    const scans = invocations
      .filter((c) => c.mode === 'scan')
      .sort((a, b) => String(a.platform).localeCompare(String(b.platform)));
    expect(scans.map((c) => c.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const [i, scan] of scans.entries()) {
      expect(scan.resolved).toEqual({ topLevelDescriptors: 1, manifest: PLATFORMS[i]?.digest });
      expect(scan.argv).toEqual(expect.arrayContaining(['--cache-backend', 'memory', '--skip-java-db-update']));
      expect(scan.argv).toEqual(expect.arrayContaining(['--skip-version-check', '--disable-telemetry']));
      expect(scan.argv).toContain('--skip-db-update');
      expect(scan.argv.slice(0, 2)).toEqual(['image', '--input']);
      expect(scan.argv[scan.argv.indexOf('--format') + 1]).toBe('json');
    }
    expect(recorded.outputs.digest).toBe(DIGEST);
    expect(recorded.outputs['db-digest']).toBe(db.digest);
    expect(recorded.outputs['db-ref']).toBe(`${registry.host}/mirror/trivy-db@${db.digest}`);
    expect(recorded.summary).toContain(
      `Trivy's vulnerability DB: \`${registry.host}/mirror/trivy-db@${db.digest}\`, resolved from \`${db.ref}\`; downloaded in this step`,
    );
    expect(recorded.outputs.result).toBe('failed');
    const findings = JSON.parse(recorded.outputs.findings ?? '{}');
    expect(findings['linux/amd64']).toEqual({ CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 1, UNKNOWN: 0 });
    expect(findings['linux/arm64']).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    const merged = JSON.parse(readFileSync(recorded.outputs.report ?? '', 'utf8'));
    // The report names the DB by digest: attest-evidence records it from there.
    expect(merged.trivyDbs).toEqual([
      expect.objectContaining({ kind: 'vuln', digest: db.digest, source: 'registry', resolvedFrom: db.ref }),
    ]);
    expect(merged.platforms.map((p: { platform: string; digest: string }) => [p.platform, p.digest])).toEqual(
      PLATFORMS.map((p) => [p.platform, p.digest]),
    );
    const sarif = JSON.parse(readFileSync(recorded.outputs.sarif ?? '', 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.map((r: { ruleId: string; level: string }) => [r.ruleId, r.level])).toEqual([
      ['CVE-2099-1002', 'error'],
      ['CVE-2099-1001', 'error'],
    ]);
    const rule = (id: string) =>
      sarif.runs[0].tool.driver.rules.find((r: { id: string }) => r.id === id).properties['security-severity'];
    expect([rule('CVE-2099-1001'), rule('CVE-2099-1002')]).toEqual(['9.5', '8.0']);
    expect(recorded.summary).toContain('| linux/amd64 | 1 | 1 | 1 | 1 | 0 |');
    expect(recorded.summary).toContain('| linux/arm64 | 0 | 0 | 0 | 0 | 0 |');
    expect(recorded.summary).toMatch(
      /\| linux\/amd64 \| CRITICAL \| CVE-2099-1001 \| musl \| 1\.2\.5-r0 \| 1\.2\.5-r1 \|/,
    );
  });

  test('passes with both clean report shapes; reports expired and unmatched ignore entries', async () => {
    const clean = JSON.stringify({ 'linux/amd64': NO_RESULTS, 'linux/arm64': CLEAN });
    const { ctx, recorded, workspace } = run({}, { TRIVY_DOUBLE_FIXTURE: clean }, () => undefined);
    writeFileSync(join(workspace, '.trivyignore'), 'CVE-2019-14697 exp:2020-01-01\nCVE-2000-0001\n');
    await main(ctx, { now: new Date('2026-11-25T00:00:00Z') });
    expect(recorded.outputs.result).toBe('passed');
    expect(recorded.summary).toContain('**Expired ignore entries**');
    expect(recorded.summary).toMatch(/\| CVE-2019-14697 \| 2020-01-01 \| .*\.trivyignore:1 \|/);
    expect(recorded.summary).toMatch(/\| CVE-2000-0001 \| .*\.trivyignore:2 \|/);
  });

  test('ignore files, ignore-unfixed and severity are applied by the suite, counted as suppressed', async () => {
    const fixtures = JSON.stringify({ default: ALPINE_ALL });
    const { ctx, recorded, workspace } = run(
      { 'ignore-unfixed': 'true', severity: 'LOW,CRITICAL', trivyignores: 'policy/ignore.yaml' },
      { TRIVY_DOUBLE_FIXTURE: fixtures },
    );
    mkdirSync(join(workspace, 'policy'));
    writeFileSync(
      join(workspace, 'policy/ignore.yaml'),
      'vulnerabilities:\n  - id: CVE-2099-1001\n    expired_at: 2999-01-01\n  - id: CVE-2099-1004\n',
    );
    await main(ctx);
    expect(recorded.outputs.result).toBe('passed');
    expect(recorded.summary).toContain('Suppressed: 4 by ignore files, 2 unfixed (ignore-unfixed).');
    const ignoreFileArgs = calls(ctx).map((argv) => argv[argv.indexOf('--ignorefile') + 1]);
    for (const file of ignoreFileArgs) expect(readFileSync(file as string, 'utf8')).toBe('');
  });

  test('fail-on-findings: false reports the findings and passes', async () => {
    const { ctx, recorded } = run({ 'fail-on-findings': 'false' }, { TRIVY_DOUBLE_FIXTURE: perPlatform });
    await main(ctx);
    expect(recorded.outputs.result).toBe('passed');
    expect(recorded.summary).toContain('fail-on-findings is false');
  });

  test('a Trivy crash or a truncated report is an error, never "0 findings"; the DB is still saved afterwards', async () => {
    const crash = run({}, { TRIVY_DOUBLE_FIXTURE: perPlatform, TRIVY_DOUBLE_CRASH: '1' });
    await expect(main(crash.ctx)).rejects.toThrow(
      /Trivy failed to scan the image layout .* \(exit code 1\): panic: runtime error/,
    );
    expect(crash.recorded.outputs.result).toBeUndefined();
    expect(crash.recorded.logs.join('\n')).toMatch(/Trivy's DB: the actions cache is not available here .* not saving/);
    const truncated = run({}, { TRIVY_DOUBLE_FIXTURE: perPlatform, TRIVY_DOUBLE_TRUNCATE: '1' });
    await expect(main(truncated.ctx)).rejects.toThrow(
      /The Trivy report .*platform-0\.json cannot be read: it is not valid JSON/,
    );
  });

  test("a DB already in the job's cache directory is never trusted for what its metadata says (NextUpdate ahead)", async () => {
    const { ctx, recorded, tempDir } = run({}, { TRIVY_DOUBLE_FIXTURE: JSON.stringify({ default: CLEAN }) }, (temp) => {
      const dir = join(temp, 'golden-image-trivy', 'cache', 'db');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'trivy.db'), 'planted, without advisories');
      const meta = { Version: 2, NextUpdate: '2999-01-01T00:00:00Z', DownloadedAt: new Date().toISOString() };
      writeFileSync(join(dir, 'metadata.json'), JSON.stringify(meta));
    });
    await main(ctx);
    expect(recorded.outputs['db-digest']).toBe(db.digest);
    expect(readFileSync(join(tempDir, 'golden-image-trivy', 'cache', 'db', 'trivy.db'), 'utf8')).toBe('bolt double');
  });

  test('the mirror unreachable: the last cached copy by its digest, with a warning, said in the summary; none: an error', async () => {
    const cache = new DirCache();
    const first = run({}, { TRIVY_DOUBLE_FIXTURE: JSON.stringify({ default: CLEAN }) });
    await main(first.ctx, { cache });
    expect(cache.keys()).toEqual([`golden-image-trivy-db-${db.digest}`]);
    // The next job on the same runner (the same RUNNER_TEMP path, emptied), with the mirror gone.
    rmSync(first.tempDir, { recursive: true, force: true });
    mkdirSync(first.tempDir);
    const unreachable = '127.0.0.1:9/mirror/trivy-db:2';
    const cached = run(
      { 'db-repository': unreachable },
      { TRIVY_DOUBLE_FIXTURE: JSON.stringify({ default: CLEAN }) },
      undefined,
      first.tempDir,
    );
    await main(cached.ctx, { cache });
    expect(cached.recorded.outputs.result).toBe('passed');
    expect(cached.recorded.outputs['db-digest']).toBe(db.digest);
    expect(cached.recorded.warnings.join('\n')).toMatch(
      /Trivy's vulnerability DB: could not reach 127\.0\.0\.1:9\/mirror\/trivy-db:2 \(.*connection refused.*\); scanning with the last cached copy .*@sha256:[0-9a-f]{64} \(updated 2026-01-01T00:00:00Z\)/,
    );
    expect(cached.recorded.summary).toContain('no registry confirmed this digest in this step');

    const none = run({ 'db-repository': unreachable }, { TRIVY_DOUBLE_FIXTURE: perPlatform });
    await expect(main(none.ctx, { cache: new DirCache() })).rejects.toThrow(
      /Trivy's vulnerability DB: could not download it from 127\.0\.0\.1:9\/mirror\/trivy-db:2 and no cached copy exists/,
    );
    expect(none.calls().filter((c) => c.mode === 'scan')).toHaveLength(0);
  });

  test('scanners and skip-dirs reach Trivy, for every platform; lower-case severities gate as upper case', async () => {
    const { ctx, recorded, calls } = run(
      {
        scanners: 'vuln,secret,misconfig,license',
        'skip-dirs': 'usr/share/doc\nvar/cache',
        severity: 'high,critical',
        image: 'ghcr.io/o/app',
      },
      { TRIVY_DOUBLE_FIXTURE: perPlatform },
    );
    const error = await main(ctx).catch((e) => e);
    expect(error.message).toMatch(/scan-layout: 2 finding\(s\) at HIGH,CRITICAL in ghcr\.io\/o\/app@sha256:5ac2d3ac/);
    const scans = calls().filter((c) => c.mode === 'scan');
    expect(scans).toHaveLength(2);
    for (const scan of scans) {
      expect(scan.argv).toEqual(
        expect.arrayContaining([
          '--scanners',
          'vuln,secret,misconfig,license',
          '--image-config-scanners',
          'secret,misconfig',
          '--skip-check-update',
          '--skip-dirs',
          'usr/share/doc,var/cache',
        ]),
      );
    }
    expect(recorded.summary).toContain('for vulnerabilities, secrets, misconfigurations and licenses');
    const merged = JSON.parse(readFileSync(recorded.outputs.report as string, 'utf8'));
    expect([merged.image, merged.scanners]).toEqual(['ghcr.io/o/app', ['vuln', 'secret', 'misconfig', 'license']]);
  });

  test('by default only vulnerabilities are scanned, as before', async () => {
    const { ctx, calls } = run({}, { TRIVY_DOUBLE_FIXTURE: CLEAN });
    await main(ctx);
    const scan = calls().find((c) => c.mode === 'scan');
    expect(scan?.argv).toEqual(expect.arrayContaining(['--scanners', 'vuln']));
    expect(scan?.argv).not.toContain('--image-config-scanners');
  });

  test.each([
    [
      { scanners: 'vuln,config' },
      /^Input "scanners": "config" is not a Trivy scanner of images: use a comma-separated list of vuln, secret, misconfig, license \(misconfig is the scanner of misconfigurations\)/,
    ],
    [{ image: 'ghcr.io/o/app:latest' }, /^Input "image": must not carry a tag/],
    [{ severity: 'HIGH,SEVERE' }, /^Input "severity": unknown severity "SEVERE"/],
    [
      { trivyignores: 'nope/.trivyignore' },
      /^Input "trivyignores": the ignore file "nope\/.trivyignore" does not exist/,
    ],
    [
      { digest: `sha256:${'0'.repeat(64)}` },
      /index.json points at sha256:5ac2d3ac.*but the "digest" input is sha256:0{64}/,
    ],
    [{ digest: 'latest' }, /^Input "digest": must be "sha256:"/],
    [{ 'trivy-version': '0.69.4' }, /^Input "trivy-version": trivy 0.69.4 is refused/],
  ])('bad input %j is one clear UserError and runs nothing', async (inputs, message) => {
    const { ctx, calls } = run(inputs, { TRIVY_DOUBLE_FIXTURE: perPlatform });
    const error = await main(ctx).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(message);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(calls()).toHaveLength(0);
  });
});

// The mirror serves the linux x64 asset name only.
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64' ? test : test.skip;

describe('scan-layout with install-tools: true', () => {
  let server: Server;
  let mirror: string;
  let archive: Buffer;
  let requests = 0;

  beforeAll(async () => {
    // A release-shaped archive whose `trivy` runs the double.
    const src = mkdtempSync(join(root, 'release-'));
    writeFileSync(join(src, 'trivy'), `#!/bin/sh\nexec "${DOUBLES_BIN}/trivy" "$@"\n`, { mode: 0o755 });
    execFileSync('tar', ['czf', join(root, 'trivy.tar.gz'), '-C', src, 'trivy']);
    archive = readFileSync(join(root, 'trivy.tar.gz'));
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/aquasecurity/trivy/releases/download/v0.76.0/trivy_0.76.0_Linux-64bit.tar.gz')
        res.writeHead(200).end(archive);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.RUNNER_TOOL_CACHE = join(root, 'toolcache');
    process.env.RUNNER_TEMP = join(root, 'runner-temp');
    mkdirSync(process.env.RUNNER_TEMP, { recursive: true });
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  onLinuxX64('installs the requested Trivy from the mirror, verifies it, and scans with it', async () => {
    const sha = createHash('sha256').update(archive).digest('hex');
    const inputs = { 'install-tools': 'true', 'trivy-version': '0.76.0', 'trivy-sha256': sha, 'tool-mirror': mirror };
    const { ctx, recorded, calls } = run(inputs, { TRIVY_DOUBLE_FIXTURE: JSON.stringify({ default: CLEAN }) });
    await main(ctx);
    expect(recorded.outputs.result).toBe('passed');
    expect(requests).toBe(1);
    expect(calls().filter((c) => c.mode === 'scan')).toHaveLength(2);
    expect(recorded.logs.join('\n')).toContain(
      `trivy 0.76.0: trivy_0.76.0_Linux-64bit.tar.gz verified (SHA-256 ${sha})`,
    );
  });
});

/** The argv of every scan the doubles recorded for this context's log. */
function calls(ctx: { env: NodeJS.ProcessEnv }): string[][] {
  return readInvocations(ctx.env.DOUBLE_LOG as string)
    .filter((c) => c.mode === 'scan')
    .map((c) => c.argv);
}
