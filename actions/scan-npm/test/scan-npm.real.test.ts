// scan-npm with the real OSV-Scanner, Trivy and Syft of the real-tool tier, offline: the project's OSV records
// (offlineOsvDb) and Trivy DB (pushed to a local registry as the OCI artifact --db-repository pulls), the real npm,
// and Verdaccio for the dependencies a consumer resolves.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile, type PackResult, packDirectory, publishTarball, registryUrl } from '@golden-image/npm';
import {
  createTestContext,
  offlineOsvDb,
  pathDirFor,
  pushTrivyDbArtifact,
  RecordingRunner,
  realTools,
  startRegistry,
  startVerdaccio,
  type TestNpmRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cycloneDxErrors } from '../../../test/doubles/fidelity/cyclonedx.js';
import { craftTarball, MANIFEST } from '../../../test/fixtures/npm/craft.js';
import { fixturePackage, type NpmFixture } from '../../../test/fixtures/npm/fixtures.js';
import { main } from '../main.js';

const tools = realTools('trivy', 'osv-scanner', 'syft');
const maybe = tools ? describe : describe.skip;

maybe('scan-npm with the real OSV-Scanner, Trivy and Syft', () => {
  let npmRegistry: TestNpmRegistry;
  let ociRegistry: TestRegistry;
  let dbRepository: string;
  let osvDb: string;
  let path: string;

  beforeAll(async () => {
    path = `${pathDirFor(tools as Record<string, string>)}:${process.env.PATH}`;
    ociRegistry = await startRegistry();
    dbRepository = await pushTrivyDbArtifact(ociRegistry, 'golden-image/trivy-db');
    osvDb = offlineOsvDb(tempDir('golden-image-osv-db-'), { version: '2.6.0', ecosystems: ['npm'] }).dir;
    npmRegistry = await startVerdaccio();
    const { ctx } = createTestContext({}, { runner: new RecordingRunner() });
    const simple = await packDirectory(ctx, { dir: fixturePackage('simple'), scripts: false });
    await publishTarball(ctx, {
      tarballPath: simple.tarballPath,
      integrity: simple.integrity,
      registry: registryUrl(npmRegistry.url),
      tag: 'latest',
      provenance: 'false',
      token: npmRegistry.token,
    });
  });

  afterAll(async () => {
    await npmRegistry?.stop();
    await ociRegistry?.stop();
  });

  async function packed(fixture: NpmFixture, edit?: (dir: string) => void): Promise<PackResult> {
    const dir = fixturePackage(fixture);
    edit?.(dir);
    const { ctx } = createTestContext({}, { runner: new RecordingRunner() });
    return packDirectory(ctx, { dir, scripts: false });
  }

  async function scan(tarball: { tarballPath: string; integrity: string }, inputs: Record<string, string> = {}) {
    const temp = tempDir('golden-image-scan-npm-real-');
    const runner = new RecordingRunner();
    const { ctx, recorded } = createTestContext(
      {
        'tarball-path': tarball.tarballPath,
        integrity: tarball.integrity,
        registry: npmRegistry.url,
        'install-tools': 'false',
        'osv-offline-db': osvDb,
        'db-repository': dbRepository,
        'cache-db': 'false',
        ...inputs,
      },
      { runner, env: { ...process.env, PATH: path }, tempDir: temp },
    );
    const saved = process.env.PATH;
    process.env.PATH = path;
    const errors: { message: string; file?: string }[] = [];
    ctx.error = (message, where) => errors.push({ message, ...(where?.file ? { file: where.file } : {}) });
    const error = await main(ctx).then(
      () => undefined,
      (e: Error) => e,
    );
    process.env.PATH = saved;
    const outputs = recorded.outputs;
    const report = (name: string) => JSON.parse(readFileSync(outputs[name] as string, 'utf8'));
    const tools = runner.calls.map((call) => call.tool.split('/').at(-1));
    return { error, outputs, recorded, errors, report, tools };
  }

  test('a shipped shrinkwrap with a vulnerable lodash: both scanners find it, the gate blocks, the SBOM names it', async () => {
    const { error, outputs, report } = await scan(await packed('shrinkwrap'));
    expect(error?.message).toMatch(
      /^scan-npm: golden-fixture-shrinkwrap@1\.0\.0 is blocked: 2 vulnerability finding\(s\)/,
    );
    expect(outputs.dependencies).toBe('npm-shrinkwrap.json');
    const findings = JSON.parse(outputs.findings ?? '');
    expect(findings['osv-scanner'].HIGH).toBe(1);
    expect(findings.trivy.HIGH).toBe(1);
    const osvIds = report('osv-report').results.flatMap((r: { packages: { groups: { ids: string[] }[] }[] }) =>
      r.packages.flatMap((p) => p.groups.flatMap((g) => g.ids)),
    );
    expect(osvIds).toEqual(['GHSA-35jh-r3h4-6jhm']);
    const sbom = JSON.parse(readFileSync(outputs.sbom as string, 'utf8'));
    expect(cycloneDxErrors(sbom)).toEqual([]);
    expect(sbom.components.map((c: { purl?: string }) => c.purl)).toContain('pkg:npm/lodash@4.17.20');
  });

  test('a malicious dependency (MAL-, no score) blocks', async () => {
    const tarball = await packed('shrinkwrap', (dir) => {
      const file = join(dir, 'npm-shrinkwrap.json');
      const lock = JSON.parse(readFileSync(file, 'utf8'));
      lock.packages['node_modules/flot-axis'] = { version: '0.0.1', license: 'MIT' };
      lock.packages[''].dependencies['flot-axis'] = '0.0.1';
      writeFileSync(file, JSON.stringify(lock, null, 2));
    });
    const { error, outputs } = await scan(tarball);
    expect(error).toBeDefined();
    expect(JSON.parse(outputs.findings ?? '')['osv-scanner'].UNSCORED).toBe(1);
    expect(outputs['osv-report'] && readFileSync(outputs['osv-report'], 'utf8')).toContain('MAL-2023-1035');
  });

  test("secrets: Trivy's own rules find a token in .env and a webhook in code; the .env is also refused by name", async () => {
    const alnum = (n: number) =>
      [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
    const tarball = await packed('simple', (dir) => {
      writeFileSync(join(dir, '.env'), `GITHUB_TOKEN=ghp_${alnum(36)}\n`);
      mkdirSync(join(dir, 'lib'));
      writeFileSync(
        join(dir, 'lib', 'notify.js'),
        `module.exports = 'https://hooks.slack.com/services/T${alnum(8).toUpperCase()}/B${alnum(8).toUpperCase()}/${alnum(24)}';\n`,
      );
    });
    const { error, errors, report } = await scan(tarball);
    expect(error?.message).toMatch(/2 secret\(s\), 1 refused file\(s\)/);
    expect(errors).toEqual(
      expect.arrayContaining([
        { message: 'github-pat: GitHub Personal Access Token (CRITICAL)', file: 'package/.env' },
        { message: 'slack-web-hook: Slack Webhook (MEDIUM)', file: 'package/lib/notify.js' },
        { message: 'package/.env: environment file (.env) [**/.env]' },
      ]),
    );
    // Trivy masks what it matched: the report holds no secret.
    expect(JSON.stringify(report('secret-report'))).not.toMatch(/ghp_[A-Za-z0-9]{36}/);
  });

  test('a clean package with a resolved dependency tree passes; bundled dependencies are in the SBOM', async () => {
    const clean = await scan(await packed('scoped'));
    expect(clean.error).toBeUndefined();
    expect(clean.outputs).toMatchObject({ result: 'passed', dependencies: 'resolved' });
    expect(clean.tools).toEqual(expect.arrayContaining(['npm', 'osv-scanner', 'trivy', 'syft']));
    const cleanSbom = JSON.parse(readFileSync(clean.outputs.sbom as string, 'utf8'));
    expect(cleanSbom.components.map((c: { purl?: string }) => c.purl)).toContain('pkg:npm/golden-fixture-simple@1.0.0');

    const bundled = await scan(await packed('bundled'));
    expect(bundled.error).toBeUndefined();
    const sbom = JSON.parse(readFileSync(bundled.outputs.sbom as string, 'utf8'));
    expect(sbom.components.map((c: { purl?: string }) => c.purl)).toContain('pkg:npm/golden-vendored@1.0.0');
  });

  test('traversal and symlink tarballs are refused before any scanner runs', async () => {
    for (const [entry, why] of [
      [{ name: 'package/../../../home/.bashrc', data: 'evil' }, /climbs out of the package/],
      [{ name: 'package/lib', type: 'symlink' as const, linkname: '/etc' }, /is a symlink -> "\/etc"/],
    ] as const) {
      const tarball = await craftTarball([{ name: 'package/package.json', data: MANIFEST() }, entry]);
      const { error, tools } = await scan({ tarballPath: tarball, integrity: (await hashFile(tarball)).integrity });
      expect(error?.message).toMatch(why);
      expect(tools).toEqual([]);
    }
  });
});
