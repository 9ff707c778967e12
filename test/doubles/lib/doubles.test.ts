import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN, THIRD_PARTY } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'doubles-'));

function call(tool: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(join(DOUBLES_BIN, tool), args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('trivy double: argv as trivy 0.74/0.75 takes it', () => {
  const cache = join(dir, 'trivy-cache');
  const fixture = { TRIVY_DOUBLE_FIXTURE: `${THIRD_PARTY}trivy/repo-npm-lockfile-list-all-pkgs.json` };

  test.each([
    [['fs', '--bogus', dir], 'Error: unknown flag: --bogus'],
    [['fs', '-x', dir], "Error: unknown shorthand flag: 'x' in -x"],
    [['fs', '--severity', 'HIGH,SEVERE', dir], 'Error: invalid argument "SEVERE" for "--severity" flag'],
    [['fs', '--format', 'xml', dir], 'Error: invalid argument "xml" for "--format" flag'],
    [['fs', '--list-all-pkgs', 'false', dir], 'Fatal error\tmultiple targets cannot be specified'],
    [['fs', '--exit-code', 'one', dir], 'Error: invalid argument "one" for "--exit-code" flag'],
    [['fs', '--input', dir], 'Error: unknown flag: --input'],
    [['image'], 'Fatal error\tRequire at least 1 argument'],
    [['scan', dir], 'Error: unknown command "scan" for "trivy"'],
    [['fs', '--output'], 'Error: flag needs an argument: --output'],
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
    const createdAt = /"CreatedAt":\s*"[^"]*"/;
    expect(scan.stdout.replace(createdAt, '')).toBe(
      readFileSync(fixture.TRIVY_DOUBLE_FIXTURE, 'utf8').replace(createdAt, ''),
    );
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
    expect(missingIgnore.stderr).toContain('unable to read the ignore file');
    const badOutput = call(
      'trivy',
      ['fs', '--cache-dir', cache, '--skip-db-update', '-f', 'json', '-o', join(dir, 'no', 'such', 'r.json'), dir],
      fixture,
    );
    expect(badOutput.stderr).toContain('failed to create an output file');
  });
});

describe('osv-scanner double: argv as osv-scanner v2 takes it', () => {
  const fixture = (name: string) => ({ OSV_DOUBLE_FIXTURE: `${THIRD_PARTY}osv-scanner/${name}` });

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
    const result = call('osv-scanner', args, fixture('empty-results.json'));
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
  });

  test('exit codes: 0 clean, 1 findings (report still written), 128 no package sources', () => {
    const out = join(dir, 'osv.json');
    expect(call('osv-scanner', ['scan', 'source', '-r', dir], fixture('empty-results.json')).code).toBe(128);
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    expect(
      call(
        'osv-scanner',
        ['scan', 'source', '-r', '--format', 'json', '--output-file', out, dir],
        fixture('empty-results.json'),
      ).code,
    ).toBe(0);
    expect(
      call(
        'osv-scanner',
        ['-r', '--format=json', '--output-file', out, dir],
        fixture('npm-package-lock-max-severity.json'),
      ).code,
    ).toBe(1);
    expect(JSON.parse(readFileSync(out, 'utf8')).results).toEqual(
      JSON.parse(readFileSync(fixture('npm-package-lock-max-severity.json').OSV_DOUBLE_FIXTURE, 'utf8')).results,
    );
    expect(
      call('osv-scanner', ['scan', 'source', '-r', dir], {
        ...fixture('empty-results.json'),
        OSV_DOUBLE_NO_PACKAGES: '1',
      }).code,
    ).toBe(128);
    const deprecated = call(
      'osv-scanner',
      ['scan', '--format', 'json', '--output', out, dir],
      fixture('empty-results.json'),
    );
    expect(deprecated.stderr).toContain('--output has been deprecated');
  });
});

describe('syft double: argv as syft 1.x takes it', () => {
  const fixture = { SYFT_DOUBLE_FIXTURE: `${THIRD_PARTY}syft/alpine-image-syft-0.58.0.cdx.json` };

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
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(fixture.SYFT_DOUBLE_FIXTURE, 'utf8'));
  });
});
