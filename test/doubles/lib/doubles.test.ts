import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PINS } from '@golden-image/tools';
import { describe, expect, test } from '@jest/globals';
import { RECORDING_KEY, recording } from '../recordings.js';
import { DOUBLES_BIN, THIRD_PARTY } from './harness.js';
import { pinnedVersion } from './recording.mjs';

const dir = mkdtempSync(join(tmpdir(), 'doubles-'));

function call(tool: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(join(DOUBLES_BIN, tool), args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A recording's tool output as the double replays it: without the recording's own key. */
function replayed(file: string): Record<string, unknown> {
  const { [RECORDING_KEY]: _info, ...output } = JSON.parse(readFileSync(file, 'utf8'));
  return output;
}

describe('the doubles replay recordings of the pinned versions only', () => {
  test('the version each double stands for is read from the pins', () => {
    for (const tool of ['trivy', 'osv-scanner', 'syft', 'cosign'] as const)
      expect(pinnedVersion(tool)).toBe(PINS[tool].defaultVersion);
  });

  type Tool = 'trivy' | 'osv-scanner' | 'syft';
  const own = mkdtempSync(join(tmpdir(), 'doubles-recordings-'));
  const CASES: [Tool, string[], string, string, number][] = [
    ['trivy', ['fs', '-f', 'json', own], 'TRIVY_DOUBLE_FIXTURE', 'trivy/image-alpine39-all-severities.json', 1],
    [
      'osv-scanner',
      ['scan', 'source', '--format', 'json', own],
      'OSV_DOUBLE_FIXTURE',
      'osv-scanner/empty-results.json',
      127,
    ],
    [
      'syft',
      ['scan', `dir:${own}`, '-o', 'cyclonedx-json'],
      'SYFT_DOUBLE_FIXTURE',
      'syft/alpine-image-syft-0.58.0.cdx.json',
      1,
    ],
  ];
  test.each(CASES)(
    '%s refuses output that is not a recording of its pinned version',
    (tool, args, control, file, code) => {
      writeFileSync(join(own, 'package-lock.json'), '{}');
      const cache = join(own, `${tool}-cache`);
      if (tool === 'trivy') call('trivy', ['image', '--download-db-only', '--cache-dir', cache]);
      const argv = [...args.slice(0, 1), ...(tool === 'trivy' ? ['--cache-dir', cache] : []), ...args.slice(1)];
      const notOne = call(tool, argv, { [control]: `${THIRD_PARTY}${file}` });
      expect(notOne.code).toBe(code);
      expect(notOne.stderr).toContain(`replays recordings of ${tool} ${PINS[tool].defaultVersion} only`);
      const other = join(own, `${tool}-other-version.json`);
      const made = JSON.parse(
        readFileSync(recording(tool, tool === 'trivy' ? 'fs-npm-clean' : 'npm-vulnerable'), 'utf8'),
      );
      made[RECORDING_KEY].version = '0.0.1';
      writeFileSync(other, JSON.stringify(made));
      const stale = call(tool, argv, { [control]: other });
      expect(stale.code).toBe(code);
      expect(stale.stderr).toContain(`was recorded with ${tool} 0.0.1`);
    },
  );
});

describe('trivy double: argv and messages as the pinned trivy takes and prints them (fidelity/trivy.real)', () => {
  const cache = join(dir, 'trivy-cache');
  const fixture = { TRIVY_DOUBLE_FIXTURE: recording('trivy', 'fs-npm-vulnerable') };

  test.each([
    [['fs', '--bogus', dir], 'FATAL\tFatal error\tunknown flag: --bogus'],
    [['fs', '-x', dir], "FATAL\tFatal error\tunknown shorthand flag: 'x' in -x"],
    [
      ['fs', '--severity', 'HIGH,SEVERE', dir],
      'invalid argument "[HIGH SEVERE]" for "--severity" flag: must be one of ["UNKNOWN" "LOW"',
    ],
    [
      ['fs', '--format', 'xml', dir],
      'flag error: unable to parse flags: unable to parse flag: invalid argument "xml" for "--format" flag',
    ],
    [['fs', '--list-all-pkgs', 'false', dir], 'Fatal error\tmultiple targets cannot be specified'],
    [['fs', '--exit-code', 'one', dir], 'FATAL\tFatal error\tinvalid argument "one" for "--exit-code" flag'],
    [['fs', '--input', dir], 'FATAL\tFatal error\tunknown flag: --input'],
    [['image'], 'Fatal error\tRequire at least 1 argument'],
    [['scan', dir], 'Error: unknown command "scan" for "trivy"'],
    [['fs', '--output'], 'FATAL\tFatal error\tflag needs an argument: --output'],
  ])('%j is rejected with exit 1', (args, message) => {
    const result = call('trivy', args, fixture);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });

  test('DB rules: --skip-db-update needs a DB; --download-db-only conflicts with it; then a scan replays the fixture', () => {
    const first = call('trivy', ['fs', '--cache-dir', cache, '--skip-db-update', '--format', 'json', dir], fixture);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('--skip-db-update cannot be specified on the first run');
    expect(call('trivy', ['image', '--download-db-only', '--skip-db-update', '--cache-dir', cache]).code).toBe(1);
    expect(call('trivy', ['image', '--download-db-only', '--cache-dir', cache]).code).toBe(0);
    expect(existsSync(join(cache, 'db', 'metadata.json'))).toBe(true);
    const scan = call(
      'trivy',
      ['fs', '--cache-dir', cache, '--skip-db-update', '-f', 'json', '--list-all-pkgs=false', dir],
      fixture,
    );
    expect(scan.code).toBe(0);
    // the replay, but stamped with this scan's time as Trivy stamps its reports
    const { CreatedAt: _now, ...output } = JSON.parse(scan.stdout);
    const { CreatedAt: _then, ...recorded } = replayed(fixture.TRIVY_DOUBLE_FIXTURE);
    expect(output).toEqual(recorded);
    expect(Date.parse(JSON.parse(scan.stdout).CreatedAt)).toBeGreaterThan(Date.now() - 600_000);
    expect(
      call('trivy', ['fs', '--cache-dir', cache, '--skip-db-update', '-f', 'json', '--exit-code', '5', dir], fixture)
        .code,
    ).toBe(5);
    const missingIgnore = call(
      'trivy',
      ['fs', '--cache-dir', cache, '--skip-db-update', '--ignorefile', join(dir, 'nope'), dir],
      fixture,
    );
    expect(missingIgnore.stderr).toContain('ignore file not found');
    const badOutput = call(
      'trivy',
      ['fs', '--cache-dir', cache, '--skip-db-update', '-f', 'json', '-o', join(dir, 'no', 'such', 'r.json'), dir],
      fixture,
    );
    expect(badOutput.stderr).toContain('failed to create output file');
  });
});

describe('osv-scanner double: argv as osv-scanner v2 takes it', () => {
  const fixture = (name: string) => ({ OSV_DOUBLE_FIXTURE: recording('osv-scanner', name) });

  test.each([
    [['scan', 'source', '--bogus', dir], 'flag provided but not defined: -bogus', 127],
    [['scan', 'source', '--format', 'xml', dir], 'unsupported format "xml" - must be one of: table, html', 127],
    [
      ['scan', 'source', '--download-offline-databases', dir],
      'databases can only be downloaded when running in offline mode',
      127,
    ],
    [['scan', 'source', '-r', join(dir, 'missing')], 'no such file or directory', 127],
    [['scan', 'source', '--config', join(dir, 'missing.toml'), dir], 'Failed to read config file', 127],
  ])('%j is rejected', (args, message, code) => {
    const result = call('osv-scanner', args, fixture('npm-clean'));
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
  });

  test('exit codes: 0 clean, 1 findings (report still written), 128 no package sources', () => {
    const out = join(dir, 'osv.json');
    expect(call('osv-scanner', ['scan', 'source', '-r', dir], fixture('npm-clean')).code).toBe(128);
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    expect(
      call('osv-scanner', ['scan', 'source', '-r', '--format', 'json', '--output-file', out, dir], fixture('npm-clean'))
        .code,
    ).toBe(0);
    expect(
      call('osv-scanner', ['-r', '--format=json', '--output-file', out, dir], fixture('npm-vulnerable')).code,
    ).toBe(1);
    expect(JSON.parse(readFileSync(out, 'utf8')).results).toEqual(
      replayed(fixture('npm-vulnerable').OSV_DOUBLE_FIXTURE).results,
    );
    expect(
      call('osv-scanner', ['scan', 'source', '-r', dir], {
        ...fixture('npm-clean'),
        OSV_DOUBLE_NO_PACKAGES: '1',
      }).code,
    ).toBe(128);
    const deprecated = call('osv-scanner', ['scan', '--format', 'json', '--output', out, dir], fixture('npm-clean'));
    expect(deprecated.stderr).toContain('--output has been deprecated');
  });
});

describe('syft double: argv as syft 1.x takes it', () => {
  const fixture = { SYFT_DOUBLE_FIXTURE: recording('syft', 'alpine-amd64') };

  test.each([
    [['scan'], 'an image/directory argument is required'],
    [['scan', `dir:${dir}`, `dir:${dir}`], 'accepts at most 1 arg(s), received 2'],
    [['scan', `dir:${dir}`, '--nope'], 'Error: unknown flag: --nope'],
    [['scan', `dir:${dir}`, '-o', 'no-such-format=x.json'], 'unsupported output format "no-such-format"'],
    [['scan', 'dir:/no/such/dir', '-o', 'cyclonedx-json'], 'could not determine source'],
  ])('%j is rejected with exit 1', (args, message) => {
    const result = call('syft', args, fixture);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });

  test('-o FORMAT=FILE creates the parent directories and writes the SBOM', () => {
    const out = join(dir, 'deep', 'er', 'sbom.json');
    mkdirSync(join(dir, 'src'), { recursive: true });
    expect(
      call('syft', ['scan', `dir:${join(dir, 'src')}`, '-o', `cyclonedx-json@1.5=${out}`, '-q'], fixture).code,
    ).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(replayed(fixture.SYFT_DOUBLE_FIXTURE));
  });
});
