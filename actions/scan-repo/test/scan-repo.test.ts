import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import {
  createTestContext,
  doubleTrivyDbFiles,
  offlineOsvDb,
  type PushedTrivyDb,
  pushTrivyDbFiles,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readInvocations, THIRD_PARTY, useDoublesOnPath } from '../../../test/doubles/lib/harness.js';
import { recording } from '../../../test/doubles/recordings.js';
import { main } from '../main.js';

const root = mkdtempSync(join(tmpdir(), 'scan-repo-test-'));
// The doubles replay recordings of the pinned tools (test/doubles/recordings.ts).
const OSV = (name: string) => recording('osv-scanner', name);
const TRIVY = (name: string) => recording('trivy', name);
const SBOM = recording('syft', 'npm-vulnerable');
let restorePath: () => void;
const savedEnv = { ...process.env };
// The DB the doubles take, served as Trivy's artifact: the suite pulls it by digest.
let registry: TestRegistry;
let db: PushedTrivyDb;

beforeAll(async () => {
  registry = await startRegistry();
  db = await pushTrivyDbFiles(registry, 'mirror/trivy-db', doubleTrivyDbFiles());
  restorePath = useDoublesOnPath();
  delete process.env.ACTIONS_CACHE_URL;
  delete process.env.ACTIONS_RESULTS_URL;
});

afterAll(async () => {
  restorePath();
  process.env = { ...savedEnv };
  await registry?.stop();
});

interface Annotation {
  message: string;
  file?: string;
}

/** A workspace holding app/ with a real npm lockfile; doubles replay the fixtures given in env. */
function run(inputs: Record<string, string>, env: Record<string, string>) {
  const workspace = mkdtempSync(join(root, 'ws-'));
  mkdirSync(join(workspace, 'app'));
  copyFileSync(
    `${THIRD_PARTY}lockfiles/npm-v1-jquery-3.3.9.package-lock.json`,
    join(workspace, 'app', 'package-lock.json'),
  );
  const tempDir = mkdtempSync(join(root, 'tmp-'));
  const log = join(tempDir, 'doubles.log');
  const { ctx, recorded } = createTestContext(
    { path: 'app', 'install-tools': 'false', 'db-repository': db.ref, ...inputs },
    {
      env: {
        ...process.env,
        GITHUB_WORKSPACE: workspace,
        GITHUB_JOB: 'gate',
        GITHUB_RUN_ATTEMPT: '1',
        DOUBLE_LOG: log,
        OSV_DOUBLE_RELOCATE: '1',
        SYFT_DOUBLE_FIXTURE: SBOM,
        TRIVY_DOUBLE_FIXTURE: TRIVY('fs-npm-clean'),
        ...env,
      },
      tempDir,
    },
  );
  const annotations: Annotation[] = [];
  ctx.error = (message, where) => annotations.push({ message, file: where?.file });
  return { ctx, recorded, workspace, annotations, calls: () => readInvocations(log) };
}

describe('scan-repo', () => {
  test('OSV HIGH/CRITICAL findings block, annotated at the lockfile; Trivy fs and Syft run with the real argv', async () => {
    const { ctx, recorded, workspace, annotations, calls } = run({}, { OSV_DOUBLE_FIXTURE: OSV('npm-vulnerable') });
    const error = await main(ctx).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/scan-repo: \d+ blocking finding\(s\) in app \(\d+ from OSV-Scanner, 0 from Trivy\)/);
    // The DB was pulled by digest (no Trivy download), named in the outputs and the summary.
    expect(recorded.outputs['db-digest']).toBe(db.digest);
    expect(recorded.outputs['db-ref']).toBe(`${registry.host}/mirror/trivy-db@${db.digest}`);
    expect(recorded.summary).toContain(`Trivy's vulnerability DB: \`${registry.host}/mirror/trivy-db@${db.digest}\``);

    const app = join(workspace, 'app');
    const invocations = calls();
    expect(invocations.map((c) => [c.tool, c.mode ?? ''])).toEqual([
      ['osv-scanner', ''],
      ['trivy', 'scan'],
      ['syft', ''],
    ]);
    expect(invocations[0]?.argv).toEqual([
      'scan',
      'source',
      '-r',
      '--format',
      'json',
      '--output-file',
      recorded.outputs['osv-report'],
      '--no-call-analysis=all',
      app,
    ]);
    const fs = invocations[1]?.argv ?? [];
    expect(fs[0]).toBe('fs');
    expect(fs.at(-1)).toBe(app);
    expect(fs).toEqual(expect.arrayContaining(['--skip-db-update', '--scanners', 'vuln', '--format', 'json']));
    expect(invocations[2]?.argv).toEqual(['scan', `dir:${app}`, '-o', `cyclonedx-json=${recorded.outputs.sbom}`]);

    expect(recorded.outputs.result).toBe('failed');
    const findings = JSON.parse(recorded.outputs.findings ?? '{}');
    expect(findings.trivy).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    expect(findings['osv-scanner'].CRITICAL).toBeGreaterThan(0);
    expect(annotations.length).toBe(findings['osv-scanner'].CRITICAL + findings['osv-scanner'].HIGH);
    expect(new Set(annotations.map((a) => a.file))).toEqual(new Set(['app/package-lock.json']));
    expect(annotations.find((a) => a.message.startsWith('GHSA-xvch-5gv4-984h'))?.message).toBe(
      'GHSA-xvch-5gv4-984h (CRITICAL) in minimist 1.2.5: fixed in 1.2.6. [osv-scanner]',
    );
    const sarif = JSON.parse(readFileSync(recorded.outputs.sarif ?? '', 'utf8'));
    expect(sarif.runs.map((r: { tool: { driver: { name: string } } }) => r.tool.driver.name)).toEqual([
      'OSV-Scanner',
      'Trivy',
    ]);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('app/package-lock.json');
    expect(existsSync(recorded.outputs['trivy-report'] ?? '')).toBe(true);
    expect(recorded.outputs['sbom-artifact']).toBe('');
    expect(recorded.logs.join('\n')).toMatch(
      /Not on a GitHub runner \(no ACTIONS_RUNTIME_TOKEN\): artifact "sbom-gate-attempt1-[0-9a-f]{8}" was not uploaded/,
    );
    expect(recorded.summary).toContain('SBOM (cyclonedx-json, 5 components)');
    expect(recorded.summary).toMatch(
      /\| CRITICAL \| GHSA-xvch-5gv4-984h \| minimist \| 1\.2\.5 \| 1\.2\.6 \| app\/package-lock\.json \|/,
    );
  });

  test('unscored findings block by default and pass with block-unscored: false', async () => {
    const blocked = run({ sbom: 'false' }, { OSV_DOUBLE_FIXTURE: OSV('go-called') });
    await expect(main(blocked.ctx)).rejects.toThrow(UserError);
    expect(blocked.annotations.some((a) => a.message.includes('(UNSCORED) in stdlib'))).toBe(true);
    expect(blocked.calls().some((c) => c.tool === 'syft')).toBe(false);
    expect(blocked.recorded.outputs.sbom).toBe('');

    const passed = run(
      { sbom: 'false', 'block-unscored': 'false', severity: 'CRITICAL' },
      { OSV_DOUBLE_FIXTURE: OSV('go-called') },
    );
    await main(passed.ctx);
    expect(passed.recorded.outputs.result).toBe('passed');
    expect(passed.annotations).toEqual([]);
  });

  test('a malicious package blocks even with block-unscored: false; only block-malicious: false lets it through', async () => {
    const mal = run({ 'block-unscored': 'false' }, { OSV_DOUBLE_FIXTURE: OSV('npm-malicious') });
    await expect(main(mal.ctx)).rejects.toThrow(/1 blocking finding/);
    expect(mal.annotations).toEqual([
      {
        message: 'MAL-2023-1035 (malicious package) in flot-axis 0.0.0: no fix available. [osv-scanner]',
        file: 'app/package-lock.json',
      },
    ]);
    expect(mal.recorded.summary).toContain('Malicious-package advisories: 1.');

    const allowed = run(
      { 'block-unscored': 'false', 'block-malicious': 'false' },
      { OSV_DOUBLE_FIXTURE: OSV('npm-malicious') },
    );
    await main(allowed.ctx);
    expect(allowed.recorded.outputs.result).toBe('passed');
  });

  test('Trivy fs findings gate like the layout and are annotated at their lockfile', async () => {
    const { ctx, annotations, recorded } = run(
      {},
      {
        OSV_DOUBLE_FIXTURE: OSV('npm-clean'),
        TRIVY_DOUBLE_FIXTURE: TRIVY('fs-npm-vulnerable'),
      },
    );
    await expect(main(ctx)).rejects.toThrow(/1 blocking finding\(s\) in app \(0 from OSV-Scanner, 1 from Trivy\)/);
    expect(annotations).toEqual([
      {
        message: 'CVE-2099-2001 (HIGH) in lodash 4.17.20: fixed in 4.17.21. [trivy]',
        file: 'app/package-lock.json',
      },
    ]);
    expect(recorded.summary).toContain('Suppressed (Trivy): 0 by ignore files, 0 unfixed.');
  });

  test('no package sources (exit 128) is not a failure, and is noted', async () => {
    const { ctx, recorded } = run({}, { OSV_DOUBLE_NO_PACKAGES: '1' });
    await main(ctx);
    expect(recorded.outputs.result).toBe('passed');
    expect(JSON.parse(recorded.outputs.findings ?? '{}')['osv-scanner']).toBeNull();
    expect(recorded.summary).toContain('OSV-Scanner found no lockfiles or package sources (exit 128)');
  });

  test('osv-scanner.toml in path is passed as --config; the SBOM is uploaded under the given name on a runner', async () => {
    const uploads: [string, string[]][] = [];
    const { ctx, recorded, workspace, calls } = run(
      { 'artifact-name': 'sbom-app' },
      { OSV_DOUBLE_FIXTURE: OSV('npm-clean'), ACTIONS_RUNTIME_TOKEN: 'token' },
    );
    copyFileSync(
      `${THIRD_PARTY}osv-scanner/ignore-config.osv-scanner.toml`,
      join(workspace, 'app', 'osv-scanner.toml'),
    );
    await main(ctx, {
      upload: async (name, files) => {
        uploads.push([name, files]);
        return { id: 42 };
      },
    });
    expect(calls()[0]?.argv).toEqual(expect.arrayContaining(['--config', join(workspace, 'app', 'osv-scanner.toml')]));
    expect(uploads).toEqual([['sbom-app', [recorded.outputs.sbom]]]);
    expect(recorded.outputs['sbom-artifact']).toBe('sbom-app');
  });

  test('an OSV-Scanner error (exit 127) fails the step with its message', async () => {
    const { ctx } = run({}, { OSV_DOUBLE_FIXTURE: '' });
    await expect(main(ctx)).rejects.toThrow(
      /OSV-Scanner failed on .*app \(exit code 127: general error, such as a bad flag\): OSV_DOUBLE_FIXTURE is not set/,
    );
  });

  test('osv-offline-db: --offline, the DB named to OSV-Scanner by the suite alone, in a scratch directory', async () => {
    const db = offlineOsvDb(mkdtempSync(join(root, 'osv-db-'))).dir;
    const { ctx, recorded, calls, annotations } = run(
      { 'osv-offline-db': db, sbom: 'false' },
      {
        OSV_DOUBLE_FIXTURE: OSV('npm-vulnerable'),
        OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY: '/elsewhere',
        OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY: '/elsewhere',
      },
    );
    await expect(main(ctx)).rejects.toThrow(/2 blocking finding\(s\) in app \(2 from OSV-Scanner/);
    const [osv] = calls();
    expect(osv?.argv).toEqual(expect.arrayContaining(['--offline', '--no-call-analysis=all']));
    expect(osv?.env).toEqual({ OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY: db, OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY: db });
    expect(osv?.cwd).toBe(join(ctx.tempDir, 'golden-image-scan-repo', 'osv-scanner'));
    expect(annotations.map((a) => a.message.split(' ')[0])).toEqual(['GHSA-35jh-r3h4-6jhm', 'GHSA-xvch-5gv4-984h']);
    expect(recorded.summary).toContain(`OSV-Scanner ran offline against the database in \`${db}\``);
  });

  test('an osv-scanner.toml beside the lockfile: its IgnoredVulns drop a finding by any alias; an expired one does not', async () => {
    const { ctx, recorded, calls, annotations, workspace } = run(
      { sbom: 'false' },
      { OSV_DOUBLE_FIXTURE: OSV('npm-vulnerable') },
    );
    const ignored = join(THIRD_PARTY, '..', 'repos', 'npm-ignored');
    for (const file of ['package-lock.json', 'osv-scanner.toml'])
      copyFileSync(join(ignored, file), join(workspace, 'app', file));
    await expect(main(ctx)).rejects.toThrow(/1 blocking finding\(s\) in app \(1 from OSV-Scanner/);
    expect(calls()[0]?.argv).toEqual(expect.arrayContaining(['--config', join(workspace, 'app', 'osv-scanner.toml')]));
    // lodash's GHSA-35jh-r3h4-6jhm went by its alias CVE-2021-23337; minimist's entry expired in 2020
    expect(annotations.map((a) => a.message.split(' ')[0])).toEqual(['GHSA-xvch-5gv4-984h']);
    expect(JSON.parse(readFileSync(recorded.outputs['osv-report'] ?? '', 'utf8')).results[0].packages).toHaveLength(1);
  });

  test('osv-offline-db without the zip of an ecosystem in the tree fails naming it, even when others have findings', async () => {
    const db = offlineOsvDb(mkdtempSync(join(root, 'osv-db-')), { records: [], ecosystems: ['npm'] }).dir;
    const { ctx } = run(
      { 'osv-offline-db': db, sbom: 'false' },
      { OSV_DOUBLE_FIXTURE: `${OSV('npm-vulnerable')}:${OSV('go-called')}` },
    );
    await expect(main(ctx)).rejects.toThrow(
      /OSV-Scanner has no offline database for Go in osv-offline-db .* those packages would go unchecked\. Add osv-scalibr\/Go\/all\.zip/,
    );
  });

  test('block-uncalled: false runs Go call analysis and lets uncalled findings through, counted', async () => {
    const { ctx, recorded, calls } = run(
      { 'block-uncalled': 'false', sbom: 'false' },
      { OSV_DOUBLE_FIXTURE: OSV('go-uncalled') },
    );
    await main(ctx);
    expect(calls()[0]?.argv).toContain('--call-analysis=go');
    expect(recorded.outputs.result).toBe('passed');
    expect(JSON.parse(recorded.outputs.findings ?? '{}')['osv-scanner'].UNSCORED).toBe(1);
    expect(recorded.summary).toContain('Not called (OSV call analysis): 1.');

    const called = run({ 'block-uncalled': 'false', sbom: 'false' }, { OSV_DOUBLE_FIXTURE: OSV('go-called') });
    await expect(main(called.ctx)).rejects.toThrow(/1 blocking finding/);
    expect(called.annotations[0]?.message).toMatch(/^GO-2023-1703 \(UNSCORED\) in stdlib 1\.20\.1/);
  });

  test('an osv-scanner.toml that does not parse is a config error naming the file', async () => {
    const { ctx, workspace } = run({ sbom: 'false' }, { OSV_DOUBLE_FIXTURE: OSV('npm-clean') });
    writeFileSync(join(workspace, 'app', 'osv-scanner.toml'), '[[IgnoredVulns]\nid = "X"\n');
    await expect(main(ctx)).rejects.toThrow(
      `The OSV-Scanner config ${join(workspace, 'app', 'osv-scanner.toml')} is not valid (toml: line 2: expected end of table array name delimiter ']', but got '\\n' instead); OSV-Scanner stopped (exit code 127).`,
    );
  });

  test.each([
    [{ severity: 'critical,severe' }, /^Input "severity": unknown severity "severe"/],
    [{ 'osv-offline-db': 'no-such-dir' }, /^Input "osv-offline-db": "no-such-dir" is not a directory/],
    [
      { 'osv-offline-db': 'app' },
      /^Input "osv-offline-db": "app" holds no OSV database: expected osv-scalibr\/<Ecosystem>\/all\.zip/,
    ],
    [{ 'block-uncalled': 'maybe' }, /^Input "block-uncalled"/],
    [
      { trivyignores: '.trivyignore.yaml' },
      /^Input "trivyignores": the ignore file ".trivyignore.yaml" does not exist/,
    ],
    [{ 'osv-config': 'missing.toml' }, /^Input "osv-config": "missing.toml" does not exist/],
    [{ path: 'nowhere' }, /^Input "path": .*nowhere is not a directory/],
    [{ 'sbom-format': 'spdx' }, /^Input "sbom-format": must be one of cyclonedx-json, spdx-json, syft-json/],
    [{ 'osv-scanner-version': 'latest' }, /^Input "osv-scanner-version": must be an exact release version/],
  ])('bad input %j is one clear UserError and runs nothing', async (inputs, message) => {
    const { ctx, calls } = run(inputs, { OSV_DOUBLE_FIXTURE: OSV('npm-clean') });
    const error = await main(ctx).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(message);
    expect(calls()).toHaveLength(0);
  });
});
