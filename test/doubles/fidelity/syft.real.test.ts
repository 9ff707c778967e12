// Fidelity: the same scenario table through the syft double and the real syft (npm run tools:real). Exit codes,
// the flags each accepts or refuses, where the SBOM goes (file, parent directories, stdout) and its shape
// (CycloneDX top-level keys, component count) must agree. The double replays a recording of the real syft on the
// same fixture repository (recorded/), and the real SBOM must be valid against the CycloneDX schema of its version.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realTool, repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN } from '../lib/harness.js';
import { RECORDING_KEY, recording } from '../recordings.js';
import { cycloneDxErrors } from './cyclonedx.js';

const syft = realTool('syft', ['version']);
const maybe = syft ? describe : describe.skip;
const REPO = join(repoRoot, 'test', 'fixtures', 'repos', 'npm-vulnerable');
const RECORDED = recording('syft', 'npm-vulnerable');

interface Outcome {
  code: number;
  /** Per output file (relative to the run's directory): its CycloneDX top-level keys and component count, or null. */
  files: Record<string, { keys: string[]; components: number } | null>;
  stdout: { keys: string[]; components: number } | null;
}

function shape(text: string): { keys: string[]; components: number } | null {
  try {
    const bom = JSON.parse(text) as { components?: unknown[] };
    return { keys: Object.keys(bom).sort(), components: bom.components?.length ?? 0 };
  } catch {
    return null;
  }
}

function run(bin: string, args: (dir: string) => string[], files: string[]): Outcome {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-syft-fidelity-'));
  mkdirSync(join(dir, 'home'));
  const result = spawnSync(bin, args(dir), {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: join(dir, 'home'),
      SYFT_CHECK_FOR_APP_UPDATE: 'false',
      SYFT_DOUBLE_FIXTURE: RECORDED,
    },
    encoding: 'utf8',
  });
  const out: Outcome['files'] = {};
  for (const file of files)
    out[file] = existsSync(join(dir, file)) ? shape(readFileSync(join(dir, file), 'utf8')) : null;
  return { code: result.status ?? -1, files: out, stdout: shape(result.stdout) };
}

const SCENARIOS: [string, (dir: string) => string[], string[]][] = [
  [
    'scan dir: to a file, parent directories made',
    (d) => ['scan', `dir:${REPO}`, '-o', `cyclonedx-json=${d}/a/b/sbom.json`],
    ['a/b/sbom.json'],
  ],
  [
    'packages (deprecated alias)',
    (d) => ['packages', `dir:${REPO}`, '-q', '-o', `cyclonedx-json=${d}/sbom.json`],
    ['sbom.json'],
  ],
  ['root form', (d) => [`dir:${REPO}`, '-q', '-o', `cyclonedx-json=${d}/sbom.json`], ['sbom.json']],
  ['bare directory path', (d) => ['scan', REPO, '-q', '-o', `cyclonedx-json=${d}/sbom.json`], ['sbom.json']],
  ['to stdout', () => ['scan', `dir:${REPO}`, '-q', '-o', 'cyclonedx-json'], []],
  [
    'two outputs',
    (d) => ['scan', `dir:${REPO}`, '-q', '-o', `cyclonedx-json=${d}/1.json`, '-o', `cyclonedx-json=${d}/2.json`],
    ['1.json', '2.json'],
  ],
  [
    'unknown flag',
    (d) => ['scan', '--no-such-flag', `dir:${REPO}`, '-o', `cyclonedx-json=${d}/sbom.json`],
    ['sbom.json'],
  ],
  ['no source', () => ['scan', '-q'], []],
  ['two sources', () => ['scan', `dir:${REPO}`, `dir:${REPO}`, '-q'], []],
  [
    'missing directory',
    (d) => ['scan', 'dir:/nonexistent-golden-image', '-q', '-o', `cyclonedx-json=${d}/sbom.json`],
    ['sbom.json'],
  ],
  ['unsupported format', () => ['scan', `dir:${REPO}`, '-q', '-o', 'no-such-format'], []],
  [
    'bad --scope value',
    (d) => ['scan', `dir:${REPO}`, '-q', '--scope', 'nonsense', '-o', `cyclonedx-json=${d}/sbom.json`],
    ['sbom.json'],
  ],
];

maybe('syft double against the real syft', () => {
  test.each(SCENARIOS)('%s', (_name, args, files) => {
    const real = run(syft as string, args, files);
    const double = run(join(DOUBLES_BIN, 'syft'), args, files);
    expect(double).toEqual(real);
  });

  test("the recording the double replays is still the real syft's SBOM of that repository", () => {
    const real = run(syft as string, (d) => ['scan', `dir:${REPO}`, '-q', '-o', `cyclonedx-json=${d}/sbom.json`], [
      'sbom.json',
    ]);
    const { [RECORDING_KEY]: _info, ...recorded } = JSON.parse(readFileSync(RECORDED, 'utf8'));
    expect(real.files['sbom.json']).toEqual(shape(JSON.stringify(recorded)));
  });

  test('the real SBOM is valid CycloneDX for its specVersion; a broken one is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'golden-image-syft-schema-'));
    const out = join(dir, 'sbom.json');
    const result = spawnSync(syft as string, ['scan', `dir:${REPO}`, '-q', '-o', `cyclonedx-json=${out}`], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, SYFT_CHECK_FOR_APP_UPDATE: 'false' },
    });
    expect(result.status).toBe(0);
    const bom = JSON.parse(readFileSync(out, 'utf8')) as { specVersion: string; components: { type: string }[] };
    expect(bom.specVersion).toMatch(/^1\.[5-7]$/);
    expect(cycloneDxErrors(bom)).toEqual([]);
    (bom.components[0] as { type: string }).type = 'no-such-type';
    expect(cycloneDxErrors(bom)).toEqual(['/components/0/type must be equal to one of the allowed values']);
  });
});
