import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, type ToolRunner, UserError } from '@golden-image/kit';
import {
  advisoriesWithout,
  alpineSampleLayout,
  type BuiltLayout,
  buildLayout,
  cleanAlpineSampleLayout,
  createTestContext,
  DirCache,
  javaSampleLayout,
  offlineTrivyCache,
  type PushedTrivyDb,
  pathDirFor,
  projectTrivyDbFiles,
  pushProjectTrivyDb,
  realTool,
  SAMPLE_MUSL,
  startRegistry,
  type TestRegistry,
  trivyDbLayer,
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
  /** The actions cache (default: none, as off a runner). */
  cache?: DirCache;
  /** The job's temporary directory: another step of the same job, or the next job on the same runner. */
  tempDir?: string;
  workspace?: (dir: string) => void;
}

maybe('scan-layout with the real trivy (offline DB made by the project, pulled by digest from a local mirror)', () => {
  let registry: TestRegistry;
  let vulnerable: BuiltLayout;
  let clean: BuiltLayout;
  let savedPath: string | undefined;
  let db: PushedTrivyDb;

  beforeAll(async () => {
    savedPath = process.env.PATH;
    process.env.PATH = `${pathDirFor({ trivy: trivy as string })}:${savedPath}`;
    registry = await startRegistry();
    db = await pushProjectTrivyDb(registry, 'mirror/trivy-db');
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
    const { ctx, recorded } = createTestContext(
      {
        'layout-path': layout.path,
        digest: layout.digest,
        'install-tools': 'false',
        'db-repository': db.ref,
        ...options.inputs,
      },
      { env: { ...process.env, GITHUB_WORKSPACE: workspace, ...options.env }, tempDir, runner: quiet },
    );
    const error = await main(ctx, options.cache ? { cache: options.cache } : {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, recorded, cache, tempDir };
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

  test('the DB is pulled by digest: Trivy downloads nothing, scans offline, and the digest is in the outputs, summary and report', async () => {
    const before = registry.requests(/GET \/v2\/mirror\/trivy-db\/blobs\//).length;
    const { error, recorded, cache } = await run(vulnerable);
    expect((error as Error).message).toMatch(/\(linux\/arm64\)/);
    expect(recorded.warnings).toEqual([]);
    expect(recorded.outputs['db-digest']).toBe(db.digest);
    expect(recorded.outputs['db-ref']).toBe(`${registry.host}/mirror/trivy-db@${db.digest}`);
    expect(recorded.summary).toContain(
      `\`${registry.host}/mirror/trivy-db@${db.digest}\`, resolved from \`${db.ref}\``,
    );
    expect(JSON.parse(readFileSync(recorded.outputs.report as string, 'utf8')).trivyDbs[0]).toMatchObject({
      digest: db.digest,
      layer: db.layer.digest,
      source: 'registry',
    });
    // The suite's own pull: the manifest by tag, then by digest, and the layer once. Trivy never stamped the DB.
    await new Promise((resolve) => setTimeout(resolve, 200)); // the registry's access log arrives on a pipe
    expect(registry.requests(/GET \/v2\/mirror\/trivy-db\/blobs\//).length - before).toBe(2); // config and layer
    // metadata.json is the artifact's own (a pull by Trivy would have stamped DownloadedAt with the time of the pull).
    const meta = JSON.parse(readFileSync(join(cache, 'db', 'metadata.json'), 'utf8'));
    expect(meta.DownloadedAt).toBe(meta.UpdatedAt);
  });

  test('the next job restores exactly golden-image-trivy-db-<digest>, hashes it, and downloads no layer', async () => {
    const cache = new DirCache();
    const first = await run(clean, { cache });
    expect(first.recorded.outputs.result).toBe('passed');
    expect(cache.keys()).toEqual([`golden-image-trivy-db-${db.digest}`]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const blobs = registry.requests(/GET \/v2\/mirror\/trivy-db\/blobs\//).length;
    rmSync(first.tempDir, { recursive: true, force: true });
    mkdirSync(first.tempDir);
    const second = await run(vulnerable, { cache, tempDir: first.tempDir });
    expect((second.error as Error).message).toMatch(/\(linux\/arm64\)/);
    expect(second.recorded.summary).toContain('from the actions cache, its bytes checked against that digest');
    expect(cache.restores.at(-1)).toEqual({
      key: `golden-image-trivy-db-${db.digest}`,
      restoreKeys: [],
      hit: `golden-image-trivy-db-${db.digest}`,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(registry.requests(/GET \/v2\/mirror\/trivy-db\/blobs\//).length).toBe(blobs);
  });

  test('a tampered cached layer (a DB without the arm64 advisory) is refused: a warning, a fresh download, the finding still blocks', async () => {
    const cache = new DirCache();
    const tempDir = mkdtempSync(join(tmpdir(), 'scan-layout-real-tmp-'));
    const planted = mkdtempSync(join(tmpdir(), 'scan-layout-planted-'));
    writeFileSync(join(planted, 'manifest.json'), db.manifest);
    const without = await projectTrivyDbFiles({ advisories: advisoriesWithout([SAMPLE_MUSL.advisory]) });
    writeFileSync(join(planted, 'layer.tar.gz'), await trivyDbLayer(without));
    cache.plant(
      `golden-image-trivy-db-${db.digest}`,
      [join(tempDir, 'golden-image-trivy', 'store', 'db')],
      () => planted,
    );
    // The planted DB really misses the finding: scanned with it, arm64 passes.
    const lenient = mkdtempSync(join(tmpdir(), 'scan-layout-lenient-'));
    await offlineTrivyCache(lenient, { advisories: advisoriesWithout([SAMPLE_MUSL.advisory]) });
    const arm64 = await alpineSampleLayout(mkdtempSync(join(tmpdir(), 'arm64-only-')), {
      platforms: ['linux/arm64'],
      attestations: false,
    });
    const home = mkdtempSync(join(tmpdir(), 'trivy-home-'));
    const own = JSON.parse(
      execFileSync(
        trivy as string,
        ['image', '--input', arm64.path, '--cache-dir', lenient, '--skip-db-update', '-f', 'json', '-q'].concat(
          '--skip-version-check',
          '--disable-telemetry',
        ),
        { env: { PATH: process.env.PATH, HOME: home }, cwd: home },
      ).toString(),
    );
    expect((own.Results ?? []).flatMap((r: { Vulnerabilities?: unknown[] }) => r.Vulnerabilities ?? [])).toEqual([]);

    const { error, recorded } = await run(vulnerable, { cache, tempDir });
    expect(recorded.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`the actions cache entry golden-image-trivy-db-${db.digest} is not that DB \\(its layer hashes to`),
      ),
    ]);
    expect((error as Error).message).toMatch(/scan-layout: 1 finding\(s\) at HIGH,CRITICAL .* \(linux\/arm64\)/);
    expect(recorded.outputs['db-digest']).toBe(db.digest);
  });

  test('the mirror unreachable: the last cached copy, by its own digest, with a warning; the finding still blocks', async () => {
    const cache = new DirCache();
    const first = await run(clean, { cache });
    rmSync(first.tempDir, { recursive: true, force: true });
    mkdirSync(first.tempDir);
    const missing = `${registry.host}/mirror/no-such-db:2`;
    const { error, recorded } = await run(vulnerable, {
      cache,
      tempDir: first.tempDir,
      inputs: { 'db-repository': missing },
    });
    expect(recorded.warnings.join('\n')).toMatch(
      new RegExp(
        `Trivy's vulnerability DB: could not reach localhost:\\d+/mirror/no-such-db:2 \\(.*\\); scanning with the last cached copy localhost:\\d+/mirror/trivy-db@${db.digest} \\(updated 2026-01-01T00:00:00Z\\)`,
      ),
    );
    expect(recorded.outputs['db-digest']).toBe(db.digest);
    expect((error as Error).message).toMatch(/\(linux\/arm64\)/);
  });

  test('no cached DB and an unreachable mirror: one error naming db-repository, nothing scanned', async () => {
    const missing = `${registry.host}/mirror/no-such-db:2`;
    const { error, recorded } = await run(vulnerable, { inputs: { 'db-repository': missing } });
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /^Trivy's vulnerability DB: could not download it from localhost:\d+\/mirror\/no-such-db:2 and no cached copy exists: .*Set db-repository to a reachable mirror/,
    );
    expect(recorded.outputs.result).toBeUndefined();
  });
});

maybe('scan-layout with the real trivy: the Java DB, fetched by digest only when a JAR is met', () => {
  let registry: TestRegistry;
  let java: BuiltLayout;
  let savedPath: string | undefined;
  let db: PushedTrivyDb;
  let javaDb: PushedTrivyDb;

  beforeAll(async () => {
    savedPath = process.env.PATH;
    process.env.PATH = `${pathDirFor({ trivy: trivy as string })}:${savedPath}`;
    registry = await startRegistry();
    db = await pushProjectTrivyDb(registry, 'mirror/trivy-db');
    javaDb = await pushProjectTrivyDb(registry, 'mirror/trivy-java-db', { java: true });
    java = await javaSampleLayout();
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await registry?.stop();
  });

  async function run(
    layout: BuiltLayout,
    inputs: Record<string, string>,
    options: { cache?: DirCache; tempDir?: string } = {},
  ) {
    const tempDir = options.tempDir ?? mkdtempSync(join(tmpdir(), 'scan-layout-real-tmp-'));
    const cache = join(tempDir, 'golden-image-trivy', 'cache');
    const { ctx, recorded } = createTestContext(
      {
        'layout-path': layout.path,
        digest: layout.digest,
        'install-tools': 'false',
        'db-repository': db.ref,
        ...inputs,
      },
      { env: { ...process.env, GITHUB_WORKSPACE: tempDir }, tempDir, runner: quiet },
    );
    const error = await main(ctx, options.cache ? { cache: options.cache } : {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, recorded, cache, tempDir };
  }

  test('java-db-repository: the Java DB comes from the mirror by digest, once, and the JAR finding blocks', async () => {
    expect(javaDb.ref).toMatch(/:1$/);
    const { error, recorded } = await run(java, { 'java-db-repository': javaDb.ref });
    expect((error as Error).message).toMatch(/scan-layout: 1 finding\(s\) .* \(linux\/amd64\)/);
    expect(recorded.summary).toMatch(
      /\| CRITICAL \| CVE-2099-3001 \| com\.example\.golden:golden-lib \| 1\.0\.0 \| 1\.0\.1 \|/,
    );
    expect(recorded.logs.filter((line) => line.includes("fetching Trivy's Java DB"))).toHaveLength(1);
    expect(recorded.summary).toContain(`Trivy's Java DB: \`${registry.host}/mirror/trivy-java-db@${javaDb.digest}\``);
    const report = JSON.parse(readFileSync(recorded.outputs.report as string, 'utf8'));
    expect(report.trivyDbs.map((use: { kind: string; digest: string }) => [use.kind, use.digest])).toEqual([
      ['vuln', db.digest],
      ['java', javaDb.digest],
    ]);
  });

  test('no Java DB and an unreachable Java mirror: one error naming java-db-repository', async () => {
    const missing = `${registry.host}/mirror/no-such-java-db:1`;
    const { error } = await run(java, { 'java-db-repository': missing });
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /^Trivy's Java DB: could not download it from localhost:\d+\/mirror\/no-such-java-db:1 and no cached copy exists: .*Set java-db-repository/,
    );
  });

  test('the Java mirror unreachable: the last cached Java DB, with a warning, and the finding still blocks', async () => {
    const cache = new DirCache();
    const first = await run(java, { 'java-db-repository': javaDb.ref }, { cache });
    expect(cache.keys()).toEqual([`golden-image-trivy-db-${db.digest}`, `golden-image-trivy-java-db-${javaDb.digest}`]);
    rmSync(first.tempDir, { recursive: true, force: true });
    mkdirSync(first.tempDir);
    const missing = `${registry.host}/mirror/no-such-java-db:1`;
    const { error, recorded } = await run(java, { 'java-db-repository': missing }, { cache, tempDir: first.tempDir });
    expect(recorded.warnings.join('\n')).toMatch(
      new RegExp(
        `Trivy's Java DB: could not reach .*no-such-java-db:1 .*scanning with the last cached copy .*@${javaDb.digest}`,
      ),
    );
    expect((error as Error).message).toMatch(/scan-layout: 1 finding\(s\)/);
  });
});
