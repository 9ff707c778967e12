// scan-repo with the real OSV-Scanner (offline, the project's OSV database), the real Trivy (the project's offline
// DB, pulled by digest from a local mirror) and the real Syft, on the fixture repositories of test/fixtures/repos.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import {
  createTestContext,
  offlineOsvDb,
  pathDirFor,
  pushTrivyDbArtifact,
  readAdvisories,
  realTools,
  repoRoot,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cycloneDxErrors } from '../../../test/doubles/fidelity/cyclonedx.js';
import { main } from '../main.js';

const tools = realTools('osv-scanner', 'trivy', 'syft');
const maybe = tools ? describe : describe.skip;
const REPOS = join(repoRoot, 'test', 'fixtures', 'repos');

interface Annotation {
  message: string;
  file?: string;
}

maybe('scan-repo with the real OSV-Scanner, Trivy and Syft, offline', () => {
  let savedPath: string | undefined;
  let osvDb: string;
  // The project's Trivy DB, pulled by digest from a local mirror (every run starts with no DB).
  let dbRegistry: TestRegistry;
  let dbMirror: string;

  beforeAll(async () => {
    savedPath = process.env.PATH;
    process.env.PATH = `${pathDirFor(tools as Record<string, string>)}:${savedPath}`;
    osvDb = offlineOsvDb(mkdtempSync(join(tmpdir(), 'scan-repo-real-osv-db-'))).dir;
    dbRegistry = await startRegistry();
    dbMirror = await pushTrivyDbArtifact(dbRegistry, 'mirror/trivy-db');
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await dbRegistry?.stop();
  });

  /** Copies the fixture repositories into app/ of a fresh workspace and runs scan-repo on it. */
  async function scanRepo(
    repos: string[],
    inputs: Record<string, string> = {},
    options: { env?: Record<string, string>; workspace?: (dir: string) => void } = {},
  ) {
    const workspace = mkdtempSync(join(tmpdir(), 'scan-repo-real-ws-'));
    const app = join(workspace, 'app');
    for (const repo of repos)
      cpSync(join(REPOS, repo), repos.length === 1 ? app : join(app, repo), { recursive: true });
    options.workspace?.(workspace);
    const tempDir = mkdtempSync(join(tmpdir(), 'scan-repo-real-tmp-'));
    const { ctx, recorded } = createTestContext(
      { path: 'app', 'install-tools': 'false', 'osv-offline-db': osvDb, 'db-repository': dbMirror, ...inputs },
      { env: { ...process.env, GITHUB_WORKSPACE: workspace, ...options.env }, tempDir },
    );
    const annotations: Annotation[] = [];
    ctx.error = (message, where) => annotations.push({ message, file: where?.file });
    const error = await main(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    const findings = JSON.parse(recorded.outputs.findings ?? 'null') as Record<string, Record<string, number> | null>;
    const sbom = recorded.outputs.sbom
      ? (JSON.parse(readFileSync(recorded.outputs.sbom, 'utf8')) as { components: { purl?: string }[] })
      : undefined;
    return { error, recorded, annotations, findings, sbom, workspace };
  }

  const ids = (annotations: Annotation[]) => annotations.map((a) => a.message.split(' ')[0]).sort();

  test('a clean npm repository passes; its SBOM is schema-valid CycloneDX and counts its components', async () => {
    const { error, recorded, findings, sbom } = await scanRepo(['npm-clean']);
    expect(error).toBeUndefined();
    expect(recorded.outputs.result).toBe('passed');
    expect(Object.values(findings?.['osv-scanner'] ?? { none: 1 }).every((n) => n === 0)).toBe(true);
    expect(Object.values(findings?.trivy ?? { none: 1 }).every((n) => n === 0)).toBe(true);
    expect(cycloneDxErrors(sbom)).toEqual([]);
    expect(sbom?.components.map((c) => c.purl).filter(Boolean)).toEqual(
      expect.arrayContaining(['pkg:npm/is-number@7.0.0', 'pkg:npm/ms@2.1.3']),
    );
    expect(recorded.summary).toContain(`SBOM (cyclonedx-json, ${sbom?.components.length} components)`);
  });

  test('air-gapped as documented: osv-offline-db, and db-repository naming a mirror (the job starts with no Trivy DB)', async () => {
    const registry = await startRegistry();
    try {
      const mirror = await pushTrivyDbArtifact(registry, 'mirror/trivy-db');
      const { error, annotations, recorded } = await scanRepo(['npm-vulnerable'], {
        'db-repository': mirror,
        sbom: 'false',
      });
      expect(error).toBeInstanceOf(UserError);
      expect(ids(annotations)).toEqual(['CVE-2099-2001', 'GHSA-35jh-r3h4-6jhm', 'GHSA-xvch-5gv4-984h']);
      expect(registry.requests(/GET \/v2\/mirror\/trivy-db\/blobs\//).length).toBeGreaterThan(0);
      expect(recorded.summary).toContain(`OSV-Scanner ran offline against the database in \`${osvDb}\``);
    } finally {
      await registry.stop();
    }
  });

  test('an npm lockfile with known advisories fails, naming them at the lockfile', async () => {
    const { error, annotations, findings } = await scanRepo(['npm-vulnerable']);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/blocking finding\(s\) in app \(2 from OSV-Scanner, 1 from Trivy\)/);
    expect(findings?.['osv-scanner']).toMatchObject({ CRITICAL: 1, HIGH: 1 });
    expect(ids(annotations)).toEqual(['CVE-2099-2001', 'GHSA-35jh-r3h4-6jhm', 'GHSA-xvch-5gv4-984h']);
    expect(annotations.find((a) => a.message.startsWith('GHSA-xvch-5gv4-984h'))).toEqual({
      message: 'GHSA-xvch-5gv4-984h (CRITICAL) in minimist 1.2.5: fixed in 1.2.6. [osv-scanner]',
      file: 'app/package-lock.json',
    });
  });

  test("an osv-scanner.toml's IgnoredVulns suppress a finding by any alias (the real OSV-Scanner); an expired one does not", async () => {
    const { error, annotations, findings } = await scanRepo(['npm-ignored']);
    expect(error).toBeInstanceOf(UserError);
    // lodash: OSV's GHSA-35jh-r3h4-6jhm is gone (ignored as CVE-2021-23337); Trivy's CVE-2099-2001 is not OSV's to drop
    expect((error as Error).message).toMatch(/blocking finding\(s\) in app \(1 from OSV-Scanner, 1 from Trivy\)/);
    expect(findings?.['osv-scanner']).toMatchObject({ CRITICAL: 1, HIGH: 0 });
    expect(ids(annotations)).toEqual(['CVE-2099-2001', 'GHSA-xvch-5gv4-984h']);
  });

  test('a malicious package blocks, even when only CRITICAL and scored findings would', async () => {
    const { error, annotations, recorded } = await scanRepo(['npm-malicious'], {
      severity: 'CRITICAL',
      'block-unscored': 'false',
    });
    expect(error).toBeInstanceOf(UserError);
    expect(annotations).toEqual([
      {
        message: 'MAL-2023-1035 (malicious package) in flot-axis 0.0.0: no fix available. [osv-scanner]',
        file: 'app/package-lock.json',
      },
    ]);
    expect(recorded.summary).toContain('Malicious-package advisories: 1.');
  });

  test("the job's SYFT_*, OSV_* variables and .syft.yaml (working directory, HOME) change nothing", async () => {
    const emptyOsvDb = offlineOsvDb(mkdtempSync(join(tmpdir(), 'scan-repo-real-empty-osv-')), {
      records: [],
      ecosystems: ['npm'],
    }).dir;
    const home = mkdtempSync(join(tmpdir(), 'scan-repo-real-home-'));
    const excludeAll = 'exclude:\n  - "**/package-lock.json"\n';
    writeFileSync(join(home, '.syft.yaml'), excludeAll);
    const env = {
      HOME: home,
      SYFT_EXCLUDE: '**/package-lock.json',
      OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY: emptyOsvDb,
      OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY: emptyOsvDb,
    };
    // The same settings do change what the real tools report when they reach them.
    const controlDir = mkdtempSync(join(tmpdir(), 'scan-repo-real-control-'));
    writeFileSync(join(controlDir, '.syft.yaml'), excludeAll);
    const syft = spawnSync(
      tools?.syft as string,
      ['scan', `dir:${join(REPOS, 'npm-vulnerable')}`, '-q', '-o', 'cyclonedx-json'],
      { cwd: controlDir, env: { PATH: process.env.PATH, HOME: controlDir, SYFT_CHECK_FOR_APP_UPDATE: 'false' } },
    );
    expect((JSON.parse(syft.stdout.toString()) as { components?: unknown[] }).components ?? []).toEqual([]);
    const osv = spawnSync(
      tools?.['osv-scanner'] as string,
      ['scan', 'source', '--format', 'json', '--offline', join(REPOS, 'npm-vulnerable')],
      { cwd: controlDir, env: { ...env, PATH: process.env.PATH, HOME: controlDir } },
    );
    expect(osv.status).toBe(0);

    const saved = process.cwd();
    const { error, findings, sbom } = await scanRepo(
      ['npm-vulnerable'],
      {},
      {
        env,
        workspace: (dir) => {
          writeFileSync(join(dir, '.syft.yaml'), excludeAll);
          process.chdir(dir);
        },
      },
    ).finally(() => process.chdir(saved));
    expect((error as Error).message).toMatch(/\(2 from OSV-Scanner, 1 from Trivy\)/);
    expect(findings?.['osv-scanner']).toMatchObject({ CRITICAL: 1, HIGH: 1 });
    expect(sbom?.components.map((c) => c.purl).filter(Boolean)).toEqual(
      expect.arrayContaining(['pkg:npm/lodash@4.17.20', 'pkg:npm/minimist@1.2.5']),
    );
  });

  test('an osv-scanner.toml that does not parse is reported as the config error it is, naming the file', async () => {
    const { error, workspace } = await scanRepo(
      ['npm-clean'],
      {},
      {
        workspace: (dir) => writeFileSync(join(dir, 'app', 'osv-scanner.toml'), '[[IgnoredVulns]\nid = "X"\n'),
      },
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `The OSV-Scanner config ${join(workspace, 'app', 'osv-scanner.toml')} is not valid (toml: line 2: expected end of table array name delimiter ']', but got '\\n' instead); OSV-Scanner stopped (exit code 127). Fix the file, or name another one with osv-config.`,
    );
  });

  test('a broken osv-scanner.toml beside a nested lockfile (ignored by OSV-Scanner, exit 130) fails naming it', async () => {
    const { error, workspace } = await scanRepo(
      ['npm-clean', 'npm-vulnerable'],
      {},
      {
        workspace: (dir) => writeFileSync(join(dir, 'app', 'npm-vulnerable', 'osv-scanner.toml'), '[[IgnoredVulns]\n'),
      },
    );
    expect((error as Error).message).toMatch(
      `The OSV-Scanner config ${join(workspace, 'app', 'npm-vulnerable', 'osv-scanner.toml')} is not valid (toml: line 2:`,
    );
    expect((error as Error).message).toContain('its ignores would not apply (exit code 130)');
  });

  test('Go call analysis: an uncalled finding blocks by default and passes with block-uncalled: false; a called one blocks', async () => {
    const blocked = await scanRepo(['go-uncalled'], { sbom: 'false' });
    expect(ids(blocked.annotations)).toEqual(['GO-2023-1703']);

    const passed = await scanRepo(['go-uncalled'], { sbom: 'false', 'block-uncalled': 'false' });
    expect(passed.error).toBeUndefined();
    expect(passed.recorded.outputs.result).toBe('passed');
    expect(passed.recorded.summary).toContain('Not called (OSV call analysis): 1.');
    const report = readFileSync(passed.recorded.outputs['osv-report'] as string, 'utf8');
    expect(JSON.parse(report).results[0].packages[0].groups[0].experimental_analysis).toEqual({
      'GO-2023-1703': { called: false, unimportant: false },
    });

    const called = await scanRepo(['go-called'], { sbom: 'false', 'block-uncalled': 'false' });
    expect(ids(called.annotations)).toEqual(['GO-2023-1703']);
  });

  test('an offline DB without the zip of an ecosystem in the tree fails naming it, though npm has findings', async () => {
    const npmOnly = offlineOsvDb(mkdtempSync(join(tmpdir(), 'scan-repo-real-npm-db-')), {
      records: readAdvisories().filter((r) => JSON.stringify(r).includes('"ecosystem":"npm"')),
    }).dir;
    const { error } = await scanRepo(['npm-vulnerable', 'go-called'], { 'osv-offline-db': npmOnly, sbom: 'false' });
    expect((error as Error).message).toMatch(
      /^OSV-Scanner has no offline database for Go in osv-offline-db .*: those packages would go unchecked/,
    );
  });
});
