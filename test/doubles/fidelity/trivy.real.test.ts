// Fidelity: the same scenario table through the trivy double and the real trivy (npm run tools:real), on the
// project's sample images and offline DB. Exit codes, the flags each accepts or refuses, the DB rules, whether a
// report is written, and its shape (top-level keys, Results[] keys, Results[].Vulnerabilities[] keys, finding count)
// must agree. The double replays recordings of this real trivy on the same images (recorded/); the last test checks
// that those recordings still have the shape the real trivy writes.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alpineSampleLayout, type BuiltLayout, offlineTrivyCache, realTool } from '@golden-image/testkit';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN } from '../lib/harness.js';
import { RECORDING_KEY, recording } from '../recordings.js';

const trivy = realTool('trivy');
const maybe = trivy ? describe : describe.skip;
const VULNERABLE = recording('trivy', 'alpine-arm64-vulnerable');
const CLEAN = recording('trivy', 'alpine-amd64-clean');
const EMPTY = recording('trivy', 'fs-empty');

interface Shape {
  keys: string[];
  resultKeys: string[];
  vulnerabilityKeys: string[];
  findings: number;
}

interface Outcome {
  code: number;
  report: Shape | null;
  /** The error Trivy printed: its FATAL line or its CLI "Error:" line, without the time and the run's paths. */
  message?: string;
}

function messageOf(stderr: string, paths: string[]): string | undefined {
  const line = stderr.split('\n').find((l) => /\tFATAL\t|^FATAL\t|^Error: /.test(l));
  if (!line) return undefined;
  let text = line.replace(/^.*?(FATAL\t|Error: )/, '$1');
  for (const [i, path] of paths.entries()) text = text.split(path).join(`<path${i}>`);
  return text;
}

function shapeOf(text: string): Shape | null {
  try {
    const report = JSON.parse(text) as { Results?: { Vulnerabilities?: object[] }[] };
    const results = report.Results ?? [];
    const vulns = results.flatMap((r) => r.Vulnerabilities ?? []);
    const union = (objects: object[]) => [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
    return {
      keys: Object.keys(report).sort(),
      resultKeys: union(results),
      vulnerabilityKeys: union(vulns),
      findings: vulns.length,
    };
  } catch {
    return null;
  }
}

interface Context {
  cache: string;
  emptyCache: string;
  vulnerable: BuiltLayout;
  multi: BuiltLayout;
  ignoreFile: string;
  /** A directory tree for fs scans. */
  tree: string;
  dir: string;
}

/**
 * [name, argv, the recording the double replays]: exit code, report shape and error message are compared in every
 * scenario.
 */
const SCENARIOS: [string, (c: Context, out: string) => string[], string?][] = [
  [
    "the suite's scan argv on one platform",
    (c, out) =>
      ['image', '--input', c.vulnerable.path, '--format', 'json', '--output', out, '--cache-dir', c.cache].concat(
        ['--cache-backend', 'memory', '--skip-db-update', '--skip-java-db-update', '--skip-version-check'],
        ['--disable-telemetry', '--scanners', 'vuln', '--list-all-pkgs=false', '--ignorefile', c.ignoreFile],
        ['--no-progress'],
      ),
  ],
  [
    'a whole multi-platform layout: only the first platform (clean amd64) is read',
    (c, out) => [
      'image',
      '--input',
      c.multi.path,
      '-f',
      'json',
      '-o',
      out,
      '--cache-dir',
      c.cache,
      '--skip-db-update',
      '--list-all-pkgs=false',
    ],
  ],
  [
    '--exit-code with findings',
    (c, out) =>
      [
        'i',
        '--input',
        c.vulnerable.path,
        '-f',
        'json',
        '-o',
        out,
        '--cache-dir',
        c.cache,
        '--skip-db-update',
        '--list-all-pkgs=false',
      ].concat('--exit-code', '5'),
  ],
  [
    '--exit-code without findings',
    (c, out) =>
      [
        'image',
        '--input',
        c.multi.path,
        '-f',
        'json',
        '-o',
        out,
        '--cache-dir',
        c.cache,
        '--skip-db-update',
        '--list-all-pkgs=false',
      ].concat('--exit-code', '5'),
  ],
  [
    '--input and a positional target: --input wins',
    (c, out) =>
      [
        'image',
        '--input',
        c.vulnerable.path,
        '-f',
        'json',
        '-o',
        out,
        '--cache-dir',
        c.cache,
        '--skip-db-update',
        '--list-all-pkgs=false',
      ].concat('alpine:3.20'),
  ],
  ['--download-db-only with a fresh DB', (c) => ['image', '--download-db-only', '--cache-dir', c.cache]],
  [
    '--download-db-only with --skip-db-update',
    (c) => ['image', '--download-db-only', '--skip-db-update', '--cache-dir', c.cache],
  ],
  [
    '--download-java-db-only with --skip-java-db-update',
    (c) => ['image', '--download-java-db-only', '--skip-java-db-update', '--cache-dir', c.cache],
  ],
  [
    '--skip-db-update with an empty cache',
    (c, out) =>
      ['image', '--input', c.vulnerable.path, '-f', 'json', '-o', out, '--cache-dir', c.emptyCache].concat(
        '--skip-db-update',
      ),
  ],
  [
    'an --ignorefile that does not exist',
    (c, out) =>
      [
        'image',
        '--input',
        c.vulnerable.path,
        '-f',
        'json',
        '-o',
        out,
        '--cache-dir',
        c.cache,
        '--skip-db-update',
        '--list-all-pkgs=false',
      ].concat('--ignorefile', join(c.dir, 'missing.trivyignore')),
  ],
  [
    'an --output in a directory that does not exist',
    (c) =>
      ['image', '--input', c.vulnerable.path, '-f', 'json', '-o', join(c.dir, 'no', 'such', 'dir.json')].concat(
        '--cache-dir',
        c.cache,
        '--skip-db-update',
      ),
  ],
  [
    'a layout that does not exist',
    (c, out) => [
      'image',
      '--input',
      join(c.dir, 'none'),
      '-f',
      'json',
      '-o',
      out,
      '--cache-dir',
      c.cache,
      '--skip-db-update',
      '--list-all-pkgs=false',
    ],
  ],
  ['image without a target', (c) => ['image', '--cache-dir', c.cache, '--skip-db-update']],
  ['an unknown command', () => ['scan', '.']],
  ['an unknown flag', (c) => ['image', '--no-such-flag', '--input', c.vulnerable.path]],
  ['a severity Trivy does not know', (c) => ['image', '--severity', 'SEVERE', '--input', c.vulnerable.path]],
  ['a format Trivy does not know', (c) => ['image', '-f', 'xml', '--input', c.vulnerable.path]],
  ['--scanners with an unknown scanner', (c) => ['image', '--scanners', 'vuln,viruses', '--input', c.vulnerable.path]],
  [
    'fs on a directory',
    (c, out) => ['fs', '--cache-dir', c.cache, '--skip-db-update', '-f', 'json', '-o', out, c.tree],
    EMPTY,
  ],
  [
    'fs on a path that does not exist',
    (c, out) => ['fs', '--cache-dir', c.cache, '--skip-db-update', '-f', 'json', '-o', out, join(c.dir, 'none')],
    EMPTY,
  ],
];

maybe('trivy double vs the real trivy 0.74', () => {
  let context: Context;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'golden-image-trivy-fidelity-'));
    const cache = await offlineTrivyCache(join(dir, 'cache'));
    const emptyCache = join(dir, 'empty-cache');
    mkdirSync(emptyCache);
    const ignoreFile = join(dir, 'empty.trivyignore');
    writeFileSync(ignoreFile, '');
    const vulnerable = await alpineSampleLayout(join(dir, 'arm64'), {
      platforms: ['linux/arm64'],
      attestations: false,
    });
    const multi = await alpineSampleLayout(join(dir, 'multi'));
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'src'), { recursive: true });
    writeFileSync(join(tree, 'src', 'index.js'), 'console.log(1);\n');
    context = { cache, emptyCache, vulnerable, multi, ignoreFile, tree, dir };
  });

  function run(bin: string, args: (c: Context, out: string) => string[], replay?: string): Outcome {
    const work = mkdtempSync(join(tmpdir(), 'golden-image-trivy-fidelity-run-'));
    const out = join(work, 'report.json');
    // Each run gets its own copy of the DB: what one tool writes there must not reach the other.
    const cache = join(work, 'cache');
    cpSync(context.cache, cache, { recursive: true });
    const result = spawnSync(bin, args({ ...context, cache }, out), {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: work,
        TRIVY_DOUBLE_FIXTURE:
          replay ?? JSON.stringify({ 'linux/arm64': VULNERABLE, 'linux/amd64': CLEAN, default: CLEAN }),
      },
      encoding: 'utf8',
    });
    const message = messageOf(result.stderr, [work, context.dir]);
    return {
      code: result.status ?? -1,
      report: existsSync(out) ? shapeOf(readFileSync(out, 'utf8')) : null,
      ...(message ? { message } : {}),
    };
  }

  // Every row with three values: jest takes a callback parameter beyond a row's values for `done`.
  test.each(SCENARIOS.map(([name, args, replay]) => [name, args, replay ?? ''] as const))(
    '%s',
    (_name, args, replay) => {
      const real = run(trivy as string, args, replay || undefined);
      const double = run(join(DOUBLES_BIN, 'trivy'), args, replay || undefined);
      expect(double).toEqual(real);
    },
  );

  test('the recordings the double replays have the shape the real trivy writes today', () => {
    const fresh = run(trivy as string, (c, out) =>
      ['image', '--input', c.vulnerable.path, '-f', 'json', '-o', out, '--cache-dir', c.cache].concat(
        '--skip-db-update',
        '--list-all-pkgs=false',
      ),
    );
    const { [RECORDING_KEY]: _info, ...recorded } = JSON.parse(readFileSync(VULNERABLE, 'utf8'));
    expect(fresh.report).toEqual(shapeOf(JSON.stringify(recorded)));
    expect(fresh.report?.findings).toBe(1);
  });
});
