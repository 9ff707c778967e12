// Fidelity: the same scenario table through the osv-scanner double and the real osv-scanner 2.6.0, offline against
// the project's OSV database (testkit offlineOsvDb). Exit codes (0/1/127/128/130), the flags each accepts or refuses,
// the errors the suite reads (config, offline DB), and the report's shape (top-level, results, packages and groups
// keys, the advisory IDs and lockfiles) must agree. The double replays recordings of the real tool (recorded/).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { offlineOsvDb, readAdvisories, realTool, repoRoot } from '@golden-image/testkit';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN } from '../lib/harness.js';
import { RECORDING_KEY, recording } from '../recordings.js';

const osv = realTool('osv-scanner');
const maybe = osv ? describe : describe.skip;
const REPOS = join(repoRoot, 'test', 'fixtures', 'repos');
const RECORDED = (name: string) => recording('osv-scanner', name);

interface Report {
  results: { source: { path: string }; packages: { groups: { ids: string[] }[] }[] }[];
}

/** What the suite relies on in a report: its keys at every level, the IDs found and the lockfiles they are in. */
function shape(text: string) {
  let report: Report;
  try {
    report = JSON.parse(text) as Report;
  } catch {
    return null;
  }
  const keys = (objects: object[]) => [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
  const packages = report.results.flatMap((r) => r.packages);
  const groups = packages.flatMap((p) => p.groups);
  return {
    top: keys([report]),
    results: keys(report.results),
    packages: keys(packages),
    groups: keys(groups),
    ids: groups.flatMap((g) => g.ids).sort(),
    sources: report.results.map((r) => basename(r.source.path)).sort(),
  };
}

/** The stderr lines the suite reads, without paths that differ between runs. */
const MARKERS = [
  /Failed to read config file/,
  /Ignored invalid config file at \S+ because/,
  /could not load db for \S+ ecosystem/,
  /No package sources found/,
  /flag provided but not defined: -\S+/,
  /\S+ (and \d+ alias(es)? )?ha(s|ve) been filtered out because: .*/,
  /Filtered \d+ vulnerabilit(y|ies) from output/,
  /has unused ignores:\n - \S+/,
];
const markers = (stderr: string) =>
  MARKERS.flatMap((re) => re.exec(stderr)?.[0].replace(/ at \S+ because/, ' because') ?? []);

let fixtures: string;
let db: string;
let npmOnlyDb: string;

interface Scenario {
  args: (out: string) => string[];
  /** The recordings the double replays (the real tool's output on the same tree). */
  replay?: string[];
  npmOnly?: boolean;
  /** The recording is of another checkout: its lockfile paths become the scanned directory's (configs beside them). */
  relocate?: boolean;
}

function run(bin: string, scenario: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-osv-fidelity-'));
  mkdirSync(join(dir, 'home'));
  const out = join(dir, 'report.json');
  const result = spawnSync(bin, scenario.args(out), {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: join(dir, 'home'),
      OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY: scenario.npmOnly ? npmOnlyDb : db,
      OSV_DOUBLE_FIXTURE: (scenario.replay ?? ['npm-clean']).map(RECORDED).join(':'),
      ...(scenario.relocate ? { OSV_DOUBLE_RELOCATE: '1' } : {}),
    },
  });
  return {
    code: result.status,
    report: existsSync(out) ? shape(readFileSync(out, 'utf8')) : null,
    stdout: shape(result.stdout),
    stderr: markers(result.stderr),
  };
}

const scan =
  (...rest: string[]) =>
  (out: string) => ['scan', 'source', '-r', '--format', 'json', '--output-file', out, '--offline', ...rest];
const repo = (name: string) => join(REPOS, name);
const goConfig = (name: string) => ['--config', join(REPOS, name, 'osv-scanner.toml')];

const SCENARIOS: [string, Scenario][] = [
  [
    'IgnoredVulns of the osv-scanner.toml beside the lockfile: a group goes by any alias, an expired entry does not apply',
    {
      args: scan('--no-call-analysis=all', repo('npm-ignored')),
      replay: ['npm-vulnerable'],
      relocate: true,
    },
  ],
  [
    'IgnoredVulns of a --config file: the same, and its unused entries said',
    {
      args: scan(
        '--no-call-analysis=all',
        '--config',
        join(REPOS, 'npm-ignored', 'osv-scanner.toml'),
        repo('npm-vulnerable'),
      ),
      replay: ['npm-vulnerable'],
    },
  ],
  [
    'npm findings: exit 1',
    { args: scan('--no-call-analysis=all', repo('npm-vulnerable')), replay: ['npm-vulnerable'] },
  ],
  ['a clean tree: exit 0, results []', { args: scan('--no-call-analysis=all', repo('npm-clean')) }],
  ['a malicious package: exit 1, no score', { args: scan(repo('npm-malicious')), replay: ['npm-malicious'] }],
  [
    'bare flags take `scan source`',
    {
      args: (out) => ['-r', '--format', 'json', '--output-file', out, '--offline', repo('npm-vulnerable')],
      replay: ['npm-vulnerable'],
    },
  ],
  [
    '`scan` takes `source`',
    {
      args: (out) => ['scan', '-r', '--format=json', '--output-file', out, '--offline', repo('npm-vulnerable')],
      replay: ['npm-vulnerable'],
    },
  ],
  [
    'JSON to stdout',
    {
      args: () => ['scan', 'source', '--format', 'json', '--offline', repo('npm-vulnerable')],
      replay: ['npm-vulnerable'],
    },
  ],
  [
    'Go call analysis, finding not called: exit 0, report still lists it',
    { args: scan('--call-analysis=go', ...goConfig('go-uncalled'), repo('go-uncalled')), replay: ['go-uncalled'] },
  ],
  [
    'Go call analysis, finding called: exit 1',
    { args: scan('--call-analysis=go', ...goConfig('go-called'), repo('go-called')), replay: ['go-called'] },
  ],
  [
    'call analysis off: no experimental_analysis, exit 1',
    { args: scan('--no-call-analysis=all', ...goConfig('go-uncalled'), repo('go-uncalled')), replay: ['go-uncalled'] },
  ],
  ['no lockfile: exit 128, no report', { args: (out) => scan(join(fixtures, 'empty'))(out) }],
  ['unknown flag: exit 127', { args: scan('--no-such-flag', repo('npm-clean')) }],
  ['unknown format: exit 127', { args: () => ['scan', 'source', '--format', 'xml', repo('npm-clean')] }],
  [
    '--download-offline-databases without --offline: exit 127',
    { args: () => ['scan', 'source', '--download-offline-databases', repo('npm-clean')] },
  ],
  [
    '--config that does not exist: exit 127',
    { args: scan('--config', '/nonexistent/osv-scanner.toml', repo('npm-clean')) },
  ],
  [
    '--config that does not parse: exit 127, no report',
    { args: (out) => scan('--config', join(fixtures, 'broken.toml'), repo('npm-vulnerable'))(out) },
  ],
  [
    'an osv-scanner.toml beside a lockfile that does not parse: ignored, exit 130, report written',
    { args: (out) => scan('--no-call-analysis=all', join(fixtures, 'nested'))(out), replay: ['npm-vulnerable'] },
  ],
  [
    'offline without the Go zip: exit 127',
    {
      args: scan('--no-call-analysis=all', ...goConfig('go-called'), repo('go-called')),
      replay: ['go-called'],
      npmOnly: true,
    },
  ],
  [
    'offline without the Go zip beside npm findings: exit 1, Go left out',
    {
      args: (out) => scan('--no-call-analysis=all', ...goConfig('go-called'), join(fixtures, 'mixed'))(out),
      replay: ['npm-vulnerable', 'go-called'],
      npmOnly: true,
    },
  ],
  ['a directory that does not exist: exit 127', { args: scan('/nonexistent-golden-image') }],
  [
    'an output file in a missing directory: exit 127',
    { args: () => scan(repo('npm-clean'))('/nonexistent/report.json') },
  ],
];

maybe('osv-scanner double against the real osv-scanner', () => {
  beforeAll(() => {
    fixtures = mkdtempSync(join(tmpdir(), 'golden-image-osv-trees-'));
    mkdirSync(join(fixtures, 'empty'));
    writeFileSync(join(fixtures, 'broken.toml'), '[[IgnoredVulns]\nid = "GHSA-35jh-r3h4-6jhm"\n');
    mkdirSync(join(fixtures, 'nested', 'sub'), { recursive: true });
    cpSync(join(repo('npm-vulnerable'), 'package-lock.json'), join(fixtures, 'nested', 'sub', 'package-lock.json'));
    cpSync(join(fixtures, 'broken.toml'), join(fixtures, 'nested', 'sub', 'osv-scanner.toml'));
    cpSync(repo('npm-vulnerable'), join(fixtures, 'mixed', 'npm-vulnerable'), { recursive: true });
    cpSync(repo('go-called'), join(fixtures, 'mixed', 'go-called'), { recursive: true });
    db = offlineOsvDb(join(fixtures, 'db')).dir;
    const npmRecords = readAdvisories().filter((r) => JSON.stringify(r).includes('"ecosystem":"npm"'));
    npmOnlyDb = offlineOsvDb(join(fixtures, 'db-npm'), { records: npmRecords }).dir;
  });

  test.each(SCENARIOS)('%s', (_name, scenario) => {
    const real = run(osv as string, scenario);
    const double = run(join(DOUBLES_BIN, 'osv-scanner'), scenario);
    expect(double).toEqual(real);
  });

  test('the recordings the double replays are still what the real tool reports on those trees', () => {
    for (const [name, config] of [
      ['npm-vulnerable', ['--no-call-analysis=all']],
      ['npm-clean', ['--no-call-analysis=all']],
      ['npm-malicious', ['--no-call-analysis=all']],
      ['go-uncalled', ['--call-analysis=go', ...goConfig('go-uncalled')]],
      ['go-called', ['--call-analysis=go', ...goConfig('go-called')]],
    ] as const) {
      const real = run(osv as string, { args: scan(...config, repo(name)) });
      const { [RECORDING_KEY]: _info, ...recorded } = JSON.parse(readFileSync(RECORDED(name), 'utf8'));
      expect({ name, report: real.report }).toEqual({ name, report: shape(JSON.stringify(recorded)) });
    }
  });
});
