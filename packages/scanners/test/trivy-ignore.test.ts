import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  IgnoreRules,
  loadIgnoreFiles,
  parsePlainIgnore,
  parseTrivyPurl,
  parseYamlIgnore,
  resolveIgnoreFiles,
  trivyGlobMatch,
  trivyPurlMatch,
  validTrivyGlob,
} from '../src/index.js';
import { fixturePath } from './fixtures.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const subject = (id: string, target = 'app/package-lock.json', extra: { pkgPath?: string; purl?: string } = {}) => ({
  id,
  target,
  ...extra,
});

describe('ignore files (the fixtures from trivy pkg/result/testdata)', () => {
  test('plain .trivyignore: IDs, exp: dates, comments; expired entries do not apply and are reported', async () => {
    const rules = await loadIgnoreFiles([fixturePath('trivy/ignorefile-sample.trivyignore')], 'trivyignores', NOW);
    expect(rules.entries.map((e) => e.id)).toEqual([
      'CVE-2019-0001',
      'CVE-2019-0002',
      'CVE-2019-0004',
      'CVE-2019-0005',
      'CVE-2019-0006',
      'ID300',
      'AVD-ID400',
      'generic-unwanted-rule',
      'GPL-3.0',
    ]);
    expect(rules.expired.map((e) => [e.id, e.expires, e.line])).toEqual([
      ['CVE-2019-0004', '2020-01-01T00:00:00.000Z', 4],
    ]);
    expect(rules.match(subject('CVE-2019-0004'))).toBeUndefined();
    expect(rules.match(subject('CVE-2019-0006'))?.id).toBe('CVE-2019-0006');
    expect(rules.match(subject('CVE-2019-9999'))).toBeUndefined();
    expect(rules.unmatched.map((e) => e.id)).toEqual([
      'CVE-2019-0001',
      'CVE-2019-0002',
      'CVE-2019-0005',
      'ID300',
      'AVD-ID400',
      'generic-unwanted-rule',
      'GPL-3.0',
    ]);
  });

  test('.trivyignore.yaml: paths, purls, expired_at', async () => {
    const rules = await loadIgnoreFiles([fixturePath('trivy/ignorefile-sample.trivyignore.yaml')], 'trivyignores', NOW);
    // Every section is read, each for its own scanner; with vulnerabilities scanned (the default), only those count.
    expect(rules.entries.filter((e) => e.section === 'secrets').map((e) => e.id)).toEqual([
      'generic-unwanted-rule',
      'generic-unwanted-rule2',
      'generic-wanted-rule',
    ]);
    expect(rules.entries.filter((e) => e.section === 'misconfigurations').map((e) => e.id)).toEqual([
      'ID100',
      'ID200',
      'ID300',
      'AVD-ID400',
    ]);
    expect(rules.match({ id: 'generic-unwanted-rule', section: 'vulnerabilities', target: 'x' })).toBeUndefined();
    expect(rules.match({ id: 'ID999', alsoId: 'AVD-ID400', section: 'misconfigurations', target: 'x' })?.id).toBe(
      'AVD-ID400',
    );
    expect(rules.entries.filter((e) => e.section === 'vulnerabilities').map((e) => e.id)).toEqual([
      'CVE-2019-0001',
      'CVE-2019-0002',
      'CVE-2019-0003',
      'CVE-2019-0004',
      'CVE-2019-0005',
      'CVE-2019-0006',
      'CVE-2019-0007',
    ]);
    expect(rules.expired.map((e) => e.id)).toEqual(['CVE-2019-0005', 'CVE-2019-0006']);
    expect(rules.match(subject('CVE-2019-0001', 'foo/package-lock.json'))?.id).toBe('CVE-2019-0001');
    expect(rules.match(subject('CVE-2019-0001', 'foo/yarn.lock'))).toBeUndefined();
    expect(rules.match(subject('CVE-2019-0002', 'foo/package.json'))).toBeUndefined();
    expect(rules.match(subject('CVE-2019-0002', 'x', { pkgPath: 'bar/package.json' }))?.id).toBe('CVE-2019-0002');
    expect(rules.match(subject('CVE-2019-0003', 'anything'))?.id).toBe('CVE-2019-0003');
    expect(rules.match(subject('CVE-2019-0005'))).toBeUndefined();
    expect(
      rules.match(subject('CVE-2019-0007', 't', { purl: 'pkg:golang/github.com/aquasecurity/bar@1.2.3' }))?.id,
    ).toBe('CVE-2019-0007');
    expect(
      rules.match(subject('CVE-2019-0007', 't', { purl: 'pkg:golang/github.com/aquasecurity/aaa@1.0.0' })),
    ).toBeUndefined();
    expect(
      rules.match(subject('CVE-2019-0007', 't', { purl: 'pkg:golang/github.com/aquasecurity/aaa@9.9.9' }))?.id,
    ).toBe('CVE-2019-0007');
    expect(rules.unmatched.map((e) => e.id)).toEqual(['CVE-2019-0004']);
  });

  test('path globs as doublestar v4 (Trivy 0.74) matches them', () => {
    const cases: [string, string, boolean][] = [
      ['**/*-lock.json', 'a/b/package-lock.json', true],
      ['**/*-lock.json', 'package-lock.json', true],
      ['*.json', 'a/b.json', false],
      ['a/?.txt', 'a/b.txt', true],
      ['a.b', 'axb', false],
      ['app/**', 'app', true],
      ['app/**', 'app/x/y.json', true],
      ['app/**', 'application/x', false],
      ['a/**.json', 'a/b/c.json', false], // `**` inside a segment is a plain `*`
      ['a/**.json', 'a/c.json', true],
      ['{app,lib}/package-lock.json', 'lib/package-lock.json', true],
      ['{app,lib}/package-lock.json', 'src/package-lock.json', false],
      ['app/{a,b{c,d}}.json', 'app/bd.json', true],
      ['[ab]/x', 'b/x', true],
      ['[!ab]/x', 'b/x', false],
      ['[a-c]/x', 'c/x', true],
      ['\\*.json', '*.json', true],
      ['\\*.json', 'x.json', false],
      ['*', '', true],
      ['**', '', true],
      ['x/**/', 'x', true],
      ['**/*', '', false],
    ];
    for (const [pattern, path, want] of cases)
      expect([pattern, path, trivyGlobMatch(pattern, path)]).toEqual([pattern, path, want]);
    for (const bad of ['[', 'a[]', '{a,b', 'a}', 'x\\']) expect(validTrivyGlob(bad)).toBe(false);
    for (const good of ['**/*.json', '{a,{b,c}}', '[!x]', '\\{']) expect(validTrivyGlob(good)).toBe(true);
  });

  test('PURLs as Trivy matches them: qualifiers of the entry must be on the package; parsing normalises', () => {
    const match = (entry: string, target: string) => trivyPurlMatch(parseTrivyPurl(entry), parseTrivyPurl(target));
    const musl = 'pkg:apk/alpine/musl@1.2.5-r0?arch=aarch64&distro=3.20.3';
    expect(match('pkg:apk/alpine/musl', musl)).toBe(true);
    expect(match('pkg:apk/alpine/musl?arch=aarch64', musl)).toBe(true);
    expect(match('pkg:apk/alpine/musl?arch=x86_64', musl)).toBe(false);
    expect(match('pkg:apk/alpine/musl@1.2.5-r0?distro=3.20.3&arch=aarch64', musl)).toBe(true);
    expect(match('pkg:apk/Alpine/MUSL', musl)).toBe(true); // apk names are case-insensitive
    expect(match('pkg:npm/lodash', 'pkg:npm/lodash@4.17.20')).toBe(true);
    expect(match('pkg:npm/lodash', 'pkg:npm/lodash-es@4.17.20')).toBe(false);
    expect(match('pkg:npm/lodash@4.17.20', 'pkg:npm/lodash@4.17.21')).toBe(false);
    expect(match('pkg:npm/%40babel/core', 'pkg:npm/@babel/core@7.0.0')).toBe(true);
    expect(match('pkg:pypi/Django_Rest', 'pkg:pypi/django-rest@1.0')).toBe(true);
    expect(match('pkg:npm/lodash?foo=', 'pkg:npm/lodash@1')).toBe(true); // an empty qualifier is no qualifier
    expect(() => parseTrivyPurl('npm/lodash')).toThrow(/starts with "pkg:"/);
    expect(() => parseTrivyPurl('pkg:npm')).toThrow(/no type or no name/);
    expect(() => parseTrivyPurl('pkg:npm/x?a=1&a=2')).toThrow(/duplicate qualifier/);
  });

  test('an entry matches the VulnerabilityID only; a package without a PURL matches any purls', () => {
    const rules = new IgnoreRules(
      parseYamlIgnore(
        'vulnerabilities:\n  - id: GHSA-2099-aaaa-0001\n  - id: CVE-2\n    purls: ["pkg:npm/x"]\n',
        'i.yaml',
      ),
      NOW,
    );
    // A finding whose VendorIDs hold the GHSA is not suppressed by it (Trivy compares VulnerabilityID alone).
    expect(rules.match(subject('CVE-2099-2001'))).toBeUndefined();
    expect(rules.match(subject('CVE-2'))?.id).toBe('CVE-2');
    expect(rules.match(subject('CVE-2', 't', { purl: 'pkg:npm/y@1' }))).toBeUndefined();
  });

  test('expiry as Trivy reads it: exp: ends at 00:00 UTC of its day; expired_at is a YAML timestamp', () => {
    const at = (iso: string) => new Date(iso);
    const plain = parsePlainIgnore('CVE-1 exp:2026-11-25 exp:2030-01-01\n', 'x');
    expect(plain[0]?.expires).toBe('2026-11-25T00:00:00.000Z'); // the first exp: field wins
    expect(new IgnoreRules(plain, at('2026-11-24T23:59:59Z')).expired).toHaveLength(0);
    expect(new IgnoreRules(plain, at('2026-11-25T00:00:01Z')).expired).toHaveLength(1); // its own day is too late
    const yaml = (value: string) =>
      parseYamlIgnore(`vulnerabilities:\n  - id: X\n    expired_at: ${value}\n`, 'y.yaml')[0]?.expires;
    expect(yaml('2026-1-2')).toBe('2026-01-02T00:00:00.000Z');
    expect(yaml('2026-01-02T12:30:00+02:00')).toBe('2026-01-02T10:30:00.000Z');
    expect(yaml('"2026-01-02T12:30:00Z"')).toBe('2026-01-02T12:30:00.000Z');
    expect(yaml('2026-01-02 12:30:00')).toBe('2026-01-02T12:30:00.000Z');
    expect(yaml('null')).toBeUndefined();
    for (const bad of ['"2026-01-02"', '2026-02-30', 'tomorrow', '20260101'])
      expect(() => yaml(bad)).toThrow(/expired_at must be a date/);
  });

  test('bad ignore files are input errors naming the input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ignore-'));
    writeFileSync(join(dir, 'bad-date'), 'CVE-1 exp:2026-13-45\n');
    writeFileSync(join(dir, 'bad.yaml'), 'vulnerabilities:\n  - paths: [x]\n');
    await expect(loadIgnoreFiles([join(dir, 'bad-date')], 'trivyignores')).rejects.toThrow(
      /Input "trivyignores": bad-date line 1: expiry "2026-13-45" is not a date/,
    );
    await expect(loadIgnoreFiles([join(dir, 'bad.yaml')], 'trivyignores')).rejects.toThrow(
      /Input "trivyignores": bad.yaml vulnerabilities\[0\] has no "id"/,
    );
  });

  test('defaults are used when present; a named file that does not exist is an error naming the input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ignore-'));
    expect(resolveIgnoreFiles([], dir)).toEqual([]);
    writeFileSync(join(dir, '.trivyignore.yaml'), 'vulnerabilities: []\n');
    expect(resolveIgnoreFiles([], dir)).toEqual([join(dir, '.trivyignore.yaml')]);
    expect(() => resolveIgnoreFiles(['missing.trivyignore'], dir)).toThrow(
      /^Input "trivyignores": the ignore file "missing.trivyignore" does not exist/,
    );
  });
});
