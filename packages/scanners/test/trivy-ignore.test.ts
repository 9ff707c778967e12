import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { globMatch, loadIgnoreFiles, purlMatch, resolveIgnoreFiles } from '../src/index.js';
import { fixturePath } from './fixtures.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const subject = (id: string, target = 'app/package-lock.json', extra: { pkgPath?: string; purl?: string } = {}) => ({
  id,
  aliases: [],
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
    expect(rules.expired.map((e) => [e.id, e.expires, e.line])).toEqual([['CVE-2019-0004', '2020-01-01', 4]]);
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
    expect(rules.entries.map((e) => e.id)).toEqual([
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

  test('globs and purls', () => {
    expect(globMatch('**/*-lock.json', 'a/b/package-lock.json')).toBe(true);
    expect(globMatch('**/*-lock.json', 'package-lock.json')).toBe(true);
    expect(globMatch('*.json', 'a/b.json')).toBe(false);
    expect(globMatch('a/?.txt', 'a/b.txt')).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(purlMatch('pkg:npm/lodash', 'pkg:npm/lodash@4.17.20')).toBe(true);
    expect(purlMatch('pkg:npm/lodash', 'pkg:npm/lodash-es@4.17.20')).toBe(false);
    expect(purlMatch('pkg:npm/lodash@4.17.20', 'pkg:npm/lodash@4.17.21')).toBe(false);
    expect(purlMatch('pkg:npm/lodash', undefined)).toBe(false);
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
