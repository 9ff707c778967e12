import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, type ToolRunner } from '@golden-image/kit';
import {
  alpineFiles,
  buildLayout,
  createTestContext,
  pushTrivyDbArtifact,
  realTool,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  closeTrivySession,
  gateTrivyReport,
  loadIgnoreFiles,
  openTrivySession,
  type Severity,
  trivyImage,
} from '../src/index.js';

const trivy = realTool('trivy');
// The tools' output is not echoed: the assertions read what the action recorded.
const exec = new ExecRunner();
const quiet: ToolRunner = { run: (tool, args, options) => exec.run(tool, args, { ...options, silent: true }) };
const maybe = trivy ? describe : describe.skip;

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const TODAY = day(0);
const packageJson = (name: string, version: string) => JSON.stringify({ name, version });

interface Case {
  name: string;
  file: '.trivyignore' | '.trivyignore.yaml';
  text: string;
  severities?: Severity[];
  ignoreUnfixed?: boolean;
  /** What both must block on (VulnerabilityID@where), so no case can pass with two empty sets. */
  blocks: string[];
}

const ALL: Severity[] = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const EVERYTHING = [
  'CVE-2099-1001@musl',
  'CVE-2099-1002@busybox',
  'CVE-2099-1003@busybox',
  'CVE-2099-1004@zlib',
  'CVE-2099-2001@app/node_modules/lodash/package.json',
  'CVE-2099-2001@lib/node_modules/lodash/package.json',
  'GHSA-2099-bbbb-0002@app/node_modules/left-pad/package.json',
];
const without = (...gone: string[]) => EVERYTHING.filter((key) => !gone.includes(key));
const LODASH_APP = 'CVE-2099-2001@app/node_modules/lodash/package.json';
const LODASH_LIB = 'CVE-2099-2001@lib/node_modules/lodash/package.json';
const yaml = (entry: string) => `vulnerabilities:\n${entry}`;

const CASES: Case[] = [
  { name: 'an ID', file: '.trivyignore', text: 'CVE-2099-1001\n', blocks: without('CVE-2099-1001@musl') },
  {
    name: 'a vendor ID (GHSA of a CVE) suppresses nothing',
    file: '.trivyignore',
    text: 'GHSA-2099-aaaa-0001\n',
    blocks: EVERYTHING,
  },
  {
    name: 'exp: today has expired',
    file: '.trivyignore',
    text: `CVE-2099-1001 exp:${TODAY}\n`,
    blocks: EVERYTHING,
  },
  {
    name: 'exp: tomorrow applies',
    file: '.trivyignore',
    text: `CVE-2099-1001 exp:${day(1)}\n`,
    blocks: without('CVE-2099-1001@musl'),
  },
  {
    name: 'exp: yesterday has expired; comments and blank lines',
    file: '.trivyignore',
    text: `# reviewed\n\nCVE-2099-1002 exp:${day(-1)}\nCVE-2099-1004 # low\n`,
    blocks: without('CVE-2099-1004@zlib'),
  },
  {
    name: 'paths: app/** (package path)',
    file: '.trivyignore.yaml',
    text: yaml('  - id: CVE-2099-2001\n    paths: ["app/**"]\n'),
    blocks: without(LODASH_APP),
  },
  {
    name: 'paths: {app,lib} alternatives',
    file: '.trivyignore.yaml',
    text: yaml('  - id: CVE-2099-2001\n    paths: ["{app,lib}/node_modules/lodash/package.json"]\n'),
    blocks: without(LODASH_APP, LODASH_LIB),
  },
  {
    name: 'paths: a character class',
    file: '.trivyignore.yaml',
    text: yaml('  - id: CVE-2099-2001\n    paths: ["[l]ib/*/lodash/*.json"]\n'),
    blocks: without(LODASH_LIB),
  },
  {
    name: 'paths: `**` inside a segment is one `*`',
    file: '.trivyignore.yaml',
    text: yaml('  - id: CVE-2099-2001\n    paths: ["app/**.json", "lib/node_modules/**/package.json"]\n'),
    blocks: without(LODASH_LIB),
  },
  {
    name: 'purls: a qualifier the package lacks',
    file: '.trivyignore.yaml',
    text: yaml('  - id: CVE-2099-1001\n    purls: ["pkg:apk/alpine/musl?arch=x86_64"]\n'),
    blocks: EVERYTHING,
  },
  {
    name: 'purls: a qualifier the package has',
    file: '.trivyignore.yaml',
    text: yaml('  - id: CVE-2099-1001\n    purls: ["pkg:apk/alpine/musl?arch=aarch64"]\n'),
    blocks: without('CVE-2099-1001@musl'),
  },
  {
    name: 'purls: another version; a name without version',
    file: '.trivyignore.yaml',
    text: yaml(
      '  - id: CVE-2099-2001\n    purls: ["pkg:npm/lodash@4.17.21"]\n  - id: GHSA-2099-bbbb-0002\n    purls: ["pkg:npm/left-pad"]\n',
    ),
    blocks: without('GHSA-2099-bbbb-0002@app/node_modules/left-pad/package.json'),
  },
  {
    name: 'expired_at: yesterday and tomorrow',
    file: '.trivyignore.yaml',
    text: yaml(`  - id: CVE-2099-1002\n    expired_at: ${day(-1)}\n  - id: CVE-2099-1003\n    expired_at: ${day(1)}\n`),
    blocks: without('CVE-2099-1003@busybox'),
  },
  {
    name: 'expired_at: an RFC 3339 time in an hour, quoted',
    file: '.trivyignore.yaml',
    text: yaml(
      `  - id: CVE-2099-1004\n    expired_at: "${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)}Z"\n`,
    ),
    blocks: without('CVE-2099-1004@zlib'),
  },
  {
    name: 'ignore-unfixed and HIGH,CRITICAL',
    file: '.trivyignore',
    text: 'CVE-2099-1002\n',
    ignoreUnfixed: true,
    severities: ['HIGH', 'CRITICAL'],
    blocks: ['CVE-2099-1001@musl', LODASH_APP, LODASH_LIB],
  },
  {
    name: 'MEDIUM,LOW with paths on the OS target',
    file: '.trivyignore.yaml',
    // The OS target is "<layout dir> (alpine 3.20.3)": `*` stops at its slashes, `**/` crosses them.
    text: yaml(
      '  - id: CVE-2099-1003\n    paths: ["*(alpine 3.20.3)"]\n  - id: CVE-2099-1004\n    paths: ["**/*(alpine 3.20.3)"]\n',
    ),
    severities: ['MEDIUM', 'LOW'],
    blocks: ['CVE-2099-1003@busybox'],
  },
];

/** One key per finding: ID and where (package path, or the OS package name). */
function keyOf(v: { VulnerabilityID?: string; id?: string; PkgPath?: string; PkgName?: string; pkg?: string }) {
  return `${v.VulnerabilityID ?? v.id}@${v.PkgPath || v.PkgName || v.pkg}`;
}

maybe("the suite's gate against Trivy's own filtering, on the same image", () => {
  let layout: string;
  let cache: string;
  let report: unknown;
  let registry: TestRegistry;

  afterAll(async () => {
    await registry?.stop();
  });

  beforeAll(async () => {
    const platform = 'linux/arm64';
    const files = {
      ...alpineFiles(platform, { musl: '1.2.5-r0', busybox: '1.36.1-r29', zlib: '1.3.1-r0' }),
      'app/node_modules/lodash/package.json': packageJson('lodash', '4.17.20'),
      'lib/node_modules/lodash/package.json': packageJson('lodash', '4.17.20'),
      'app/node_modules/left-pad/package.json': packageJson('left-pad', '1.3.0'),
    };
    const built = await buildLayout(mkdtempSync(join(tmpdir(), 'ignore-table-')), {
      platforms: [platform],
      files: { [platform]: files },
      attestations: false,
    });
    layout = built.path;
    const { ctx } = createTestContext({}, { env: { PATH: process.env.PATH }, runner: quiet });
    // The project's DB, pulled by digest from a local mirror into the session's cache directory.
    registry = await startRegistry();
    const mirror = await pushTrivyDbArtifact(registry, 'mirror/trivy-db');
    const session = await openTrivySession(ctx, trivy as string, { dbRepository: [mirror], cacheDb: false });
    cache = session.cacheDir;
    report = await trivyImage(ctx, session, layout, join(ctx.tempDir, 'report.json'));
    await closeTrivySession(ctx, session);
  });

  function trivyOwn(extra: string[]): { keys: string[]; report: Record<string, unknown> } {
    const home = mkdtempSync(join(tmpdir(), 'trivy-own-'));
    const output = join(home, 'out.json');
    execFileSync(
      trivy as string,
      ['image', '--input', layout, '--cache-dir', cache, '--skip-db-update', '--skip-java-db-update'].concat([
        '--skip-version-check',
        '--disable-telemetry',
        '--scanners',
        'vuln',
        '-f',
        'json',
        '-o',
        output,
        ...extra,
      ]),
      { env: { PATH: process.env.PATH, HOME: home }, cwd: home, stdio: 'ignore' },
    );
    const parsed = JSON.parse(readFileSync(output, 'utf8'));
    const keys = (parsed.Results ?? []).flatMap((r: { Vulnerabilities?: object[] }) =>
      (r.Vulnerabilities ?? []).map(keyOf),
    );
    return { keys: keys.sort(), report: parsed };
  }

  test('with no ignore file both see every finding', () => {
    expect(trivyOwn([]).keys).toEqual([...EVERYTHING].sort());
  });

  test.each(CASES)('$name', async (c) => {
    const dir = mkdtempSync(join(tmpdir(), 'ignore-case-'));
    const file = join(dir, c.file);
    writeFileSync(file, c.text);
    const severities = c.severities ?? ALL;
    const own = trivyOwn([
      '--ignorefile',
      file,
      '--severity',
      severities.join(','),
      ...(c.ignoreUnfixed ? ['--ignore-unfixed'] : []),
    ]).keys;
    const gate = gateTrivyReport(report, 'suite', {
      severities: new Set(severities),
      ignoreUnfixed: c.ignoreUnfixed ?? false,
      ignore: await loadIgnoreFiles([file], 'trivyignores'),
    });
    const suite = gate.selected.map((f) => keyOf({ id: f.id, PkgPath: f.pkgPath, pkg: f.pkg })).sort();
    expect({ suite, trivy: own }).toEqual({ suite: [...c.blocks].sort(), trivy: [...c.blocks].sort() });
  });

  test('Trivy reports what it suppressed only with --show-suppressed (the old "by Trivy" count read nothing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ignore-case-'));
    const file = join(dir, '.trivyignore');
    writeFileSync(file, 'CVE-2099-1001\n');
    const modified = (r: Record<string, unknown>) =>
      ((r.Results ?? []) as { ExperimentalModifiedFindings?: unknown[] }[]).flatMap(
        (x) => x.ExperimentalModifiedFindings ?? [],
      );
    expect(modified(trivyOwn(['--ignorefile', file]).report)).toHaveLength(0);
    expect(modified(trivyOwn(['--ignorefile', file, '--show-suppressed']).report)).toHaveLength(1);
  });
});
