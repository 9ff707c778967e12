import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { type PackResult, packDirectory } from '@golden-image/npm';
import {
  createTestContext,
  doubleShims,
  doubleTrivyDbFiles,
  type PushedTrivyDb,
  pushTrivyDbFiles,
  RecordingRunner,
  shellQuote,
  startRegistry,
  startVerdaccio,
  type TestNpmRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type Invocation, readInvocations } from '../../../test/doubles/lib/harness.js';
import { recording } from '../../../test/doubles/recordings.js';
import { craftTarball, MANIFEST } from '../../../test/fixtures/npm/craft.js';
import { fixturePackage, type NpmFixture } from '../../../test/fixtures/npm/fixtures.js';
import { main } from '../main.js';

// The doubles replay recordings of the pinned tools (test/doubles/recordings.ts).
const SECRET_REPORT = recording('trivy', 'fs-secret-github-pat-slack');
const savedEnv = { ...process.env };
let registry: TestNpmRegistry;
// The DB the doubles take, served as Trivy's artifact: the suite pulls it by digest.
let oci: TestRegistry;
let db: PushedTrivyDb;

beforeAll(async () => {
  delete process.env.ACTIONS_CACHE_URL;
  delete process.env.ACTIONS_RESULTS_URL;
  oci = await startRegistry();
  db = await pushTrivyDbFiles(oci, 'mirror/trivy-db', doubleTrivyDbFiles());
  registry = await startVerdaccio();
  // The scoped fixture depends on golden-fixture-simple: a consumer resolves it from the registry.
  const { ctx } = createTestContext({}, { runner: new RecordingRunner() });
  const simple = await packDirectory(ctx, { dir: fixturePackage('simple'), scripts: false });
  const { publishTarball, registryUrl } = await import('@golden-image/npm');
  await publishTarball(ctx, {
    tarballPath: simple.tarballPath,
    integrity: simple.integrity,
    registry: registryUrl(registry.url),
    tag: 'latest',
    provenance: 'false',
    token: registry.token,
  });
});

afterAll(async () => {
  await registry?.stop();
  await oci?.stop();
  process.env = { ...savedEnv };
});

/**
 * The tool doubles, each behind a wrapper that sets its fixtures (scanners get no settings from the job's
 * environment). Trivy replays the vulnerability report for `--scanners vuln` and the real secret report for
 * `--scanners secret`.
 */
function doubles(env: Record<string, string>): string {
  const { SECRET_FIXTURE, ...controls } = env;
  return doubleShims(controls, {
    trivy: `case " $* " in *" secret "*) export TRIVY_DOUBLE_FIXTURE=${shellQuote(SECRET_FIXTURE ?? '')};; esac\n`,
  });
}

const CLEAN = {
  OSV_DOUBLE_FIXTURE: recording('osv-scanner', 'npm-clean'),
  TRIVY_DOUBLE_FIXTURE: recording('trivy', 'fs-npm-clean'),
  SECRET_FIXTURE: recording('trivy', 'fs-empty'),
};

async function packed(fixture: NpmFixture, edit?: (dir: string) => void): Promise<PackResult> {
  const dir = fixturePackage(fixture);
  edit?.(dir);
  const { ctx } = createTestContext({}, { runner: new RecordingRunner() });
  return packDirectory(ctx, { dir, scripts: false });
}

async function scan(
  tarball: { tarballPath: string; integrity: string },
  inputs: Record<string, string> = {},
  fixtures: Record<string, string> = CLEAN,
) {
  const temp = tempDir('golden-image-scan-npm-');
  const log = join(temp, 'doubles.log');
  const path = `${doubles({ DOUBLE_LOG: log, OSV_DOUBLE_RELOCATE: '1', SYFT_DOUBLE_FIXTURE: recording('syft', 'npm-vulnerable'), ...fixtures })}:${savedEnv.PATH}`;
  process.env.PATH = path;
  const runner = new RecordingRunner();
  const { ctx, recorded } = createTestContext(
    {
      'tarball-path': tarball.tarballPath,
      integrity: tarball.integrity,
      registry: registry.url,
      'install-tools': 'false',
      'db-repository': db.ref,
      ...inputs,
    },
    { runner, env: { ...savedEnv, PATH: path, GITHUB_JOB: 'scan', GITHUB_RUN_ATTEMPT: '1' }, tempDir: temp },
  );
  const errors: { message: string; file?: string }[] = [];
  ctx.error = (message, where) => errors.push({ message, ...(where?.file ? { file: where.file } : {}) });
  const error = await main(ctx).then(
    () => undefined,
    (e: Error) => e,
  );
  process.env.PATH = savedEnv.PATH;
  const calls: Invocation[] = readInvocations(log);
  return {
    error,
    recorded,
    outputs: recorded.outputs,
    errors,
    calls,
    runner,
    work: join(temp, 'golden-image-scan-npm'),
  };
}

describe('scan-npm (tool doubles; the real npm and Verdaccio)', () => {
  test('a clean package passes; the dependencies a consumer installs are resolved without dev dependencies', async () => {
    const tarball = await packed('scoped');
    const { error, outputs, calls, work, recorded } = await scan(tarball);
    expect(error).toBeUndefined();
    expect(outputs).toMatchObject({ integrity: tarball.integrity, result: 'passed', dependencies: 'resolved' });
    // The Trivy DB both scans used: pulled by digest, named in the outputs and the summary.
    expect(outputs['db-digest']).toBe(db.digest);
    expect(outputs['db-ref']).toBe(`${oci.host}/mirror/trivy-db@${db.digest}`);
    expect(recorded.summary).toContain(`Trivy's vulnerability DB: \`${oci.host}/mirror/trivy-db@${db.digest}\``);
    expect(JSON.parse(outputs.findings ?? '')).toMatchObject({ secrets: 0, contents: 0, manifest: 0 });
    const lock = JSON.parse(readFileSync(join(work, 'dependencies', 'package-lock.json'), 'utf8'));
    expect(Object.keys(lock.packages)).toEqual(['', 'node_modules/golden-fixture-simple']);
    expect(lock.packages['node_modules/golden-fixture-simple'].resolved).toContain(registry.url);
    // Vulnerabilities are scanned in the dependency tree; secrets in the unpacked package.
    const trivy = calls.filter((call) => call.tool === 'trivy' && call.mode === 'scan');
    expect(trivy.map((call) => [call.argv[call.argv.indexOf('--scanners') + 1], call.argv.at(-1)])).toEqual([
      ['vuln', join(work, 'dependencies')],
      ['secret', join(work, 'package')],
    ]);
    const osv = calls.find((call) => call.tool === 'osv-scanner');
    expect(osv?.argv.at(-1)).toBe(join(work, 'dependencies'));
    expect(recorded.summary).toContain('a lockfile resolved against');
  });

  test('a shipped shrinkwrap is the tree; its vulnerable lodash blocks (OSV and Trivy); fail-on-findings false only reports', async () => {
    const tarball = await packed('shrinkwrap');
    const fixtures = {
      ...CLEAN,
      OSV_DOUBLE_FIXTURE: recording('osv-scanner', 'npm-vulnerable'),
      TRIVY_DOUBLE_FIXTURE: recording('trivy', 'fs-npm-vulnerable'),
    };
    const blocked = await scan(tarball, {}, fixtures);
    expect(blocked.error).toBeInstanceOf(UserError);
    expect(blocked.error?.message).toMatch(
      /^scan-npm: golden-fixture-shrinkwrap@1\.0\.0 is blocked: \d+ vulnerability finding/,
    );
    expect(blocked.outputs).toMatchObject({ result: 'failed', dependencies: 'npm-shrinkwrap.json' });
    expect(readdirSync(join(blocked.work, 'dependencies')).sort()).toEqual(['package-lock.json', 'package.json']);
    const reported = await scan(tarball, { 'fail-on-findings': 'false' }, fixtures);
    expect(reported.error).toBeUndefined();
    expect(reported.outputs.result).toBe('failed');
  });

  test('secrets (Trivy) and a .env (contents policy) block, annotated at the file; allow exempts a reviewed path', async () => {
    const tarball = await packed('simple', (dir) => {
      writeFileSync(join(dir, '.env'), 'GITHUB_TOKEN=redacted-in-the-fixture\n');
      mkdirSync(join(dir, 'lib'));
      writeFileSync(join(dir, 'lib', 'config.js'), 'module.exports = {};\n');
    });
    const fixtures = { ...CLEAN, SECRET_FIXTURE: SECRET_REPORT };
    const { error, outputs, errors, recorded } = await scan(tarball, {}, fixtures);
    expect(error?.message).toMatch(
      /0 vulnerability finding\(s\), 2 secret\(s\), 1 refused file\(s\), 0 package\.json problem/,
    );
    expect(JSON.parse(outputs.findings ?? '')).toMatchObject({ secrets: 2, contents: 1 });
    expect(errors).toEqual(
      expect.arrayContaining([
        { message: 'github-pat: GitHub Personal Access Token (CRITICAL)', file: 'package/.env' },
        { message: 'slack-web-hook: Slack Webhook (MEDIUM)', file: 'package/lib/config.js' },
        { message: 'package/.env: environment file (.env) [**/.env]' },
      ]),
    );
    expect(recorded.summary).toContain('Secrets in the tarball');
    const allowed = await scan(tarball, { allow: '.env,lib/config.js' }, fixtures);
    expect(allowed.error).toBeUndefined();
    expect(JSON.parse(allowed.outputs.findings ?? '')).toMatchObject({ secrets: 0, contents: 0 });
  });

  test('an install hook blocks unless allowed; a bin missing from the tarball always blocks', async () => {
    const hooked = await packed('simple', (dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      manifest.scripts = { postinstall: 'node cli.js' };
      writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    });
    const blocked = await scan(hooked);
    expect(blocked.error?.message).toMatch(/1 package\.json problem/);
    expect(blocked.errors).toContainEqual({ message: 'scripts.postinstall runs on every install: "node cli.js"' });
    expect((await scan(hooked, { 'allow-install-scripts': 'true' })).error).toBeUndefined();

    const broken = await craftTarball([
      { name: 'package/package.json', data: MANIFEST('broken-bin', '1.0.0', { bin: { gone: 'bin/gone.js' } }) },
    ]);
    const { hashFile } = await import('@golden-image/npm');
    const { error } = await scan({ tarballPath: broken, integrity: (await hashFile(broken)).integrity });
    expect(error?.message).toMatch(/1 package\.json problem/);
  });

  test('the tarball is re-hashed before anything reads it; an unsafe tarball is refused before any scanner runs', async () => {
    const tarball = await packed('simple');
    const other = await packed('bundled');
    const mismatch = await scan({ tarballPath: tarball.tarballPath, integrity: other.integrity });
    expect(mismatch.error?.message).toMatch(/^Input "integrity": the tarball .* hashes to/);
    expect(mismatch.calls).toEqual([]);
    expect(mismatch.runner.calls).toEqual([]);

    const traversal = await craftTarball([
      { name: 'package/package.json', data: MANIFEST() },
      { name: 'package/../../.bashrc', data: 'evil' },
    ]);
    const { hashFile } = await import('@golden-image/npm');
    const refused = await scan({ tarballPath: traversal, integrity: (await hashFile(traversal)).integrity });
    expect(refused.error?.message).toMatch(
      /is refused: entry "package\/\.\.\/\.\.\/\.bashrc" climbs out of the package/,
    );
    expect(refused.calls).toEqual([]);

    const garbled = await craftTarball([{ name: 'package/package.json', data: '{"name": ' }]);
    const notJson = await scan({ tarballPath: garbled, integrity: (await hashFile(garbled)).integrity });
    expect(notJson.error).toBeInstanceOf(UserError);
    expect(notJson.error?.message).toMatch(/is refused: its package\.json is not a JSON object/);
  });

  test('bad inputs are named before anything runs', async () => {
    const tarball = await packed('simple');
    for (const [inputs, message] of [
      [{ integrity: 'sha512-short' }, /Input "integrity": must be the tarball's SHA-512/],
      [{ severity: 'SEVERE' }, /Input "severity": unknown severity "SEVERE"/],
      [{ registry: 'http://registry.example.com' }, /Input "registry": must be https/],
      [{ 'max-files': '0' }, /Input "max-files": must be a whole number from 1/],
      [{ 'tarball-path': '' }, /Input "tarball-path": is required/],
      [{ 'osv-offline-db': 'nowhere' }, /Input "osv-offline-db": "nowhere" is not a directory/],
    ] as const) {
      const { error, calls, runner } = await scan(tarball, inputs);
      expect(error).toBeInstanceOf(UserError);
      expect(error?.message).toMatch(message);
      expect(calls).toEqual([]);
      expect(runner.calls).toEqual([]);
    }
  });
});
