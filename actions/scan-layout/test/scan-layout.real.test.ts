import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, type ToolRunner, UserError } from '@golden-image/kit';
import {
  alpineSampleLayout,
  type BuiltLayout,
  buildLayout,
  cleanAlpineSampleLayout,
  createTestContext,
  javaSampleLayout,
  offlineTrivyCache,
  pathDirFor,
  pushTrivyDbArtifact,
  realTool,
  SAMPLE_MUSL,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main } from '../main.js';

const trivy = realTool('trivy');
// The tools' output is not echoed: the assertions read what the action recorded.
const exec = new ExecRunner();
const quiet: ToolRunner = { run: (tool, args, options) => exec.run(tool, args, { ...options, silent: true }) };
const maybe = trivy ? describe : describe.skip;

interface Run {
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  /** How the job's Trivy cache starts: fresh offline DB (default), stale offline DB, or empty. */
  cache?: 'fresh' | 'stale' | 'empty';
  /** The job's temporary directory (and so its DB cache), to run a second step of the same job. */
  tempDir?: string;
  workspace?: (dir: string) => void;
}

maybe('scan-layout with the real trivy (offline DB made by the project)', () => {
  let registry: TestRegistry;
  let vulnerable: BuiltLayout;
  let clean: BuiltLayout;
  let savedPath: string | undefined;

  beforeAll(async () => {
    savedPath = process.env.PATH;
    process.env.PATH = `${pathDirFor({ trivy: trivy as string })}:${savedPath}`;
    registry = await startRegistry();
    vulnerable = await alpineSampleLayout();
    clean = await cleanAlpineSampleLayout();
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await registry?.stop();
  });

  async function run(layout: BuiltLayout, options: Run = {}) {
    const workspace = mkdtempSync(join(tmpdir(), 'scan-layout-real-ws-'));
    const tempDir = options.tempDir ?? mkdtempSync(join(tmpdir(), 'scan-layout-real-tmp-'));
    options.workspace?.(workspace);
    const cache = join(tempDir, 'golden-image-trivy', 'cache');
    const stale = { updatedAt: '2026-01-01T00:00:00Z', nextUpdate: '2026-01-02T00:00:00Z' };
    if ((options.cache ?? 'fresh') !== 'empty') await offlineTrivyCache(cache, options.cache === 'stale' ? stale : {});
    const { ctx, recorded } = createTestContext(
      { 'layout-path': layout.path, digest: layout.digest, 'install-tools': 'false', ...options.inputs },
      { env: { ...process.env, GITHUB_WORKSPACE: workspace, ...options.env }, tempDir, runner: quiet },
    );
    const error = await main(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, recorded, cache };
  }

  const reportOf = (recorded: { outputs: Record<string, string> }) =>
    JSON.parse(readFileSync(recorded.outputs.report as string, 'utf8')) as {
      platforms: { platform: string; report: { Metadata: { ImageConfig: { architecture: string } } } }[];
    };

  test('only linux/arm64 (not the first platform) is vulnerable: the step fails and names linux/arm64 alone', async () => {
    const { error, recorded } = await run(vulnerable);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /scan-layout: 1 finding\(s\) at HIGH,CRITICAL in sha256:[0-9a-f]{64} \(linux\/arm64\)/,
    );
    expect(recorded.outputs.result).toBe('failed');
    expect(JSON.parse(recorded.outputs.findings as string)).toEqual({
      'linux/amd64': { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
      'linux/arm64': { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
    });
    expect(recorded.summary).toMatch(
      new RegExp(`\\| linux/arm64 \\| CRITICAL \\| ${SAMPLE_MUSL.advisory} \\| musl \\| ${SAMPLE_MUSL.vulnerable} \\|`),
    );
    // Each per-platform layout was read by Trivy as that platform's image.
    expect(reportOf(recorded).platforms.map((p) => [p.platform, p.report.Metadata.ImageConfig.architecture])).toEqual([
      ['linux/amd64', 'amd64'],
      ['linux/arm64', 'arm64'],
    ]);
  });

  test('Trivy alone on the whole layout reads only the first platform and misses the finding', () => {
    const home = mkdtempSync(join(tmpdir(), 'trivy-home-'));
    const cache = join(home, 'cache');
    return offlineTrivyCache(cache).then(() => {
      const out = execFileSync(
        trivy as string,
        ['image', '--input', vulnerable.path, '--cache-dir', cache, '--skip-db-update', '--skip-version-check'].concat([
          '--disable-telemetry',
          '--scanners',
          'vuln',
          '-f',
          'json',
          '-q',
        ]),
        { env: { PATH: process.env.PATH, HOME: home }, cwd: home },
      );
      const report = JSON.parse(out.toString());
      expect(report.Metadata.ImageConfig.architecture).toBe('amd64');
      expect(report.Results.flatMap((r: { Vulnerabilities?: unknown[] }) => r.Vulnerabilities ?? [])).toEqual([]);
    });
  });

  test("the findings table, SARIF and report name the image and platform, not Trivy's scratch directory", async () => {
    const { recorded } = await run(vulnerable, { inputs: { image: 'ghcr.io/o/app' } });
    expect(recorded.summary).toMatch(
      new RegExp(
        `\\| linux/arm64 \\| CRITICAL \\| ${SAMPLE_MUSL.advisory} \\| musl \\| .* \\| ghcr\\.io/o/app linux/arm64 \\(alpine 3\\.\\d+\\.\\d+\\) \\|`,
      ),
    );
    const everything = `${recorded.summary}${readFileSync(recorded.outputs.report as string, 'utf8')}${readFileSync(recorded.outputs.sarif as string, 'utf8')}`;
    expect(everything).not.toContain('golden-image-scan-layout/platform-');
    const report = JSON.parse(readFileSync(recorded.outputs.report as string, 'utf8'));
    expect(report.platforms.map((p: { report: { ArtifactName: string } }) => p.report.ArtifactName)).toEqual([
      'ghcr.io/o/app linux/amd64',
      'ghcr.io/o/app linux/arm64',
    ]);
  });

  test('scanners: secret, misconfig and license findings of every platform are gated like vulnerabilities', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scan-layout-kinds-'));
    const withFiles = await buildLayout(dir, {
      platforms: ['linux/amd64', 'linux/arm64'],
      files: {
        'linux/amd64': { 'etc/alpine-release': '3.20.3\n' },
        'linux/arm64': { 'etc/alpine-release': '3.20.3\n' },
      },
      sharedFiles: {
        'app/config.env': 'AWS_ACCESS_KEY_ID=AKIA2E0A8F3B244C9986\n',
        'app/k8s/pod.yaml':
          'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContext: {privileged: true}\n',
        'app/node_modules/leftpad/package.json': '{"name":"leftpad","version":"1.0.0","license":"GPL-3.0"}\n',
        'app/package-lock.json':
          '{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"leftpad":"1.0.0"}},"node_modules/leftpad":{"version":"1.0.0","license":"GPL-3.0"}}}\n',
      },
    });
    const vulnOnly = await run(withFiles);
    expect(vulnOnly.recorded.outputs.result).toBe('passed');

    const { error, recorded } = await run(withFiles, {
      inputs: { scanners: 'vuln,secret,misconfig,license', severity: 'high,critical', image: 'ghcr.io/o/app' },
    });
    expect((error as Error).message).toMatch(/in ghcr\.io\/o\/app@sha256:[0-9a-f]{64} \(linux\/amd64, linux\/arm64\)/);
    for (const row of [
      /\| linux\/amd64 \| CRITICAL \| secret aws-access-key-id \|/,
      /\| linux\/arm64 \| HIGH \| license GPL-3\.0-only \| leftpad \|/,
      /\| linux\/arm64 \| HIGH \| misconfig KSV-0017 \|/,
    ])
      expect(recorded.summary).toMatch(row);

    // Reviewed: a plain .trivyignore suppresses them by ID, on every platform; the scan then passes.
    const ignored = await run(withFiles, {
      inputs: { scanners: 'secret,misconfig,license', trivyignores: '.trivyignore' },
      workspace: (ws) =>
        writeFileSync(join(ws, '.trivyignore'), 'aws-access-key-id\nGPL-3.0-only\nKSV-0014\nKSV-0017\nKSV-0118\n'),
    });
    expect(ignored.error).toBeUndefined();
    expect(ignored.recorded.summary).toMatch(/Suppressed: \d+ by ignore files/);
  });

  test('the clean layout passes', async () => {
    const { error, recorded } = await run(clean);
    expect(error).toBeUndefined();
    expect(recorded.outputs.result).toBe('passed');
    expect(reportOf(recorded).platforms).toHaveLength(2);
  });

  test("the job's TRIVY_* variables, TRIVY_CONFIG and a trivy.yaml in the workspace change nothing", async () => {
    const config =
      'severity: [LOW]\nvulnerability:\n  ignore-unfixed: true\nscan:\n  skip-files: [lib/apk/db/installed]\n';
    const hostile = {
      TRIVY_SEVERITY: 'LOW',
      TRIVY_IGNORE_UNFIXED: 'true',
      TRIVY_SKIP_FILES: 'lib/apk/db/installed',
      TRIVY_SCANNERS: 'secret',
      TRIVY_CONFIG: '',
    };
    // The job's working directory is the workspace, as on a runner.
    const cwd = process.cwd();
    const { error, recorded } = await run(vulnerable, {
      env: hostile,
      workspace: (dir) => {
        writeFileSync(join(dir, 'trivy.yaml'), config);
        hostile.TRIVY_CONFIG = join(dir, 'trivy.yaml');
        process.chdir(dir);
      },
    }).finally(() => process.chdir(cwd));
    expect((error as Error).message).toMatch(/\(linux\/arm64\)/);
    expect(recorded.outputs.result).toBe('failed');

    // The same settings do reach a Trivy run in the job's environment: this test could fail.
    const home = mkdtempSync(join(tmpdir(), 'trivy-home-'));
    const split = mkdtempSync(join(tmpdir(), 'arm64-only-'));
    const arm64 = await alpineSampleLayout(split, { platforms: ['linux/arm64'], attestations: false });
    const cache = await offlineTrivyCache(join(home, 'cache'));
    const out = execFileSync(
      trivy as string,
      ['image', '--input', arm64.path, '--cache-dir', cache, '--skip-db-update', '-f', 'json', '-q'].concat(
        '--skip-version-check',
        '--disable-telemetry',
      ),
      { env: { PATH: process.env.PATH, HOME: home, ...hostile }, cwd: home },
    );
    const report = JSON.parse(out.toString());
    expect((report.Results ?? []).flatMap((r: { Vulnerabilities?: unknown[] }) => r.Vulnerabilities ?? [])).toEqual([]);
  });

  test('db-repository: an empty cache pulls the DB from the local registry mirror', async () => {
    const ref = await pushTrivyDbArtifact(registry, 'mirror/trivy-db');
    const { error, recorded, cache } = await run(vulnerable, { cache: 'empty', inputs: { 'db-repository': ref } });
    expect((error as Error).message).toMatch(/\(linux\/arm64\)/);
    expect(recorded.warnings).toEqual([]);
    const meta = JSON.parse(readFileSync(join(cache, 'db', 'metadata.json'), 'utf8'));
    expect(Date.parse(meta.DownloadedAt)).toBeGreaterThan(Date.parse(meta.UpdatedAt)); // stamped by Trivy's pull
  });

  test('the DB cache: a DB pulled by an earlier step is current, and the next step starts no download', async () => {
    const ref = await pushTrivyDbArtifact(registry, 'mirror/trivy-db-cached');
    const first = await run(clean, { cache: 'empty', inputs: { 'db-repository': ref } });
    expect(first.recorded.outputs.result).toBe('passed');
    const pulls = registry.requests(/GET \/v2\/mirror\/trivy-db-cached\/manifests\//).length;
    const tempDir = join(first.cache, '..', '..');
    const second = await run(vulnerable, { cache: 'empty', tempDir, inputs: { 'db-repository': ref } });
    expect((second.error as Error).message).toMatch(/\(linux\/arm64\)/);
    expect(second.recorded.logs.join('\n')).toMatch(/Trivy's vulnerability DB: the cached copy is current until /);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the registry's access log arrives on a pipe
    expect(registry.requests(/GET \/v2\/mirror\/trivy-db-cached\/manifests\//).length).toBe(pulls);
  });

  test('a stale cached DB and an unreachable mirror: a warning, and the scan uses the cached DB', async () => {
    const missing = `${registry.host}/mirror/no-such-db:2`;
    const { error, recorded } = await run(vulnerable, { cache: 'stale', inputs: { 'db-repository': missing } });
    expect(recorded.warnings.join('\n')).toMatch(
      /Trivy's vulnerability DB: could not update it from localhost:\d+\/mirror\/no-such-db:2 \(.*\); scanning with the cached copy \(updated 2026-01-01T00:00:00Z\)/,
    );
    expect((error as Error).message).toMatch(/\(linux\/arm64\)/);
  });

  test('no cached DB and an unreachable mirror: one error naming db-repository, nothing scanned', async () => {
    const missing = `${registry.host}/mirror/no-such-db:2`;
    const { error, recorded } = await run(vulnerable, { cache: 'empty', inputs: { 'db-repository': missing } });
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /^Trivy's vulnerability DB: could not download it from localhost:\d+\/mirror\/no-such-db:2 and no cached copy exists: .*Set db-repository to a reachable mirror/,
    );
    expect(recorded.outputs.result).toBeUndefined();
  });
});

maybe('scan-layout with the real trivy: the Java DB, fetched only when a JAR is met', () => {
  let registry: TestRegistry;
  let java: BuiltLayout;
  let savedPath: string | undefined;

  beforeAll(async () => {
    savedPath = process.env.PATH;
    process.env.PATH = `${pathDirFor({ trivy: trivy as string })}:${savedPath}`;
    registry = await startRegistry();
    java = await javaSampleLayout();
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await registry?.stop();
  });

  async function run(layout: BuiltLayout, inputs: Record<string, string>, javaDb?: 'stale') {
    const tempDir = mkdtempSync(join(tmpdir(), 'scan-layout-real-tmp-'));
    const cache = join(tempDir, 'golden-image-trivy', 'cache');
    await offlineTrivyCache(cache);
    if (javaDb) {
      const stale = await offlineTrivyCache(undefined, {
        javaDb: true,
        updatedAt: '2026-01-01T00:00:00Z',
        nextUpdate: '2026-01-02T00:00:00Z',
      });
      mkdirSync(join(cache, 'java-db'));
      for (const file of ['trivy-java.db', 'metadata.json'])
        writeFileSync(join(cache, 'java-db', file), readFileSync(join(stale, 'java-db', file)));
    }
    const { ctx, recorded } = createTestContext(
      { 'layout-path': layout.path, digest: layout.digest, 'install-tools': 'false', ...inputs },
      { env: { ...process.env, GITHUB_WORKSPACE: tempDir }, tempDir, runner: quiet },
    );
    const error = await main(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, recorded, cache };
  }

  test('java-db-repository: the Java DB comes from the mirror, once, and the JAR finding blocks', async () => {
    const ref = await pushTrivyDbArtifact(registry, 'mirror/trivy-java-db', { java: true });
    expect(ref).toMatch(/:1$/);
    const { error, recorded, cache } = await run(java, { 'java-db-repository': ref });
    expect((error as Error).message).toMatch(/scan-layout: 1 finding\(s\) .* \(linux\/amd64\)/);
    expect(recorded.summary).toMatch(
      /\| CRITICAL \| CVE-2099-3001 \| com\.example\.golden:golden-lib \| 1\.0\.0 \| 1\.0\.1 \|/,
    );
    expect(recorded.logs.filter((line) => line.includes("fetching Trivy's Java DB"))).toHaveLength(1);
    const meta = JSON.parse(readFileSync(join(cache, 'java-db', 'metadata.json'), 'utf8'));
    expect(Date.parse(meta.DownloadedAt)).toBeGreaterThan(Date.parse(meta.UpdatedAt));
  });

  test('no Java DB and an unreachable Java mirror: one error naming java-db-repository', async () => {
    const missing = `${registry.host}/mirror/no-such-java-db:1`;
    const { error } = await run(java, { 'java-db-repository': missing });
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /^Trivy's Java DB: could not download it from localhost:\d+\/mirror\/no-such-java-db:1 and no cached copy exists: .*Set java-db-repository/,
    );
  });

  test('a stale cached Java DB and an unreachable mirror: a warning, and the cached Java DB is used', async () => {
    const missing = `${registry.host}/mirror/no-such-java-db:1`;
    const { error, recorded } = await run(java, { 'java-db-repository': missing }, 'stale');
    expect(recorded.warnings.join('\n')).toMatch(
      /Trivy's Java DB: could not update it from .*no-such-java-db:1 .*scanning with the cached copy \(updated 2026-01-01T00:00:00Z\)/,
    );
    expect((error as Error).message).toMatch(/scan-layout: 1 finding\(s\)/);
  });
});
