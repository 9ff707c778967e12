import { UserError } from '@golden-image/kit';
import { describe, expect, test } from '@jest/globals';
import {
  gateTrivyReport,
  IgnoreRules,
  parsePlainIgnore,
  parseTrivyJson,
  SEVERITIES,
  type Severity,
} from '../src/index.js';
import { fixtureFiles, fixtureJson, fixtureText } from './fixtures.js';

const ALL = new Set<Severity>(SEVERITIES);
const HIGH_CRITICAL = new Set<Severity>(['HIGH', 'CRITICAL']);

/** Per Trivy JSON fixture: counts by severity, unfixed findings, clean targets. */
const EXPECTED: Record<string, { counts: Partial<Record<Severity, number>>; unfixed: number; cleanTargets: number }> = {
  'fs-package-lock-vex-show-suppressed.json': { counts: { HIGH: 1 }, unfixed: 0, cleanTargets: 0 },
  'image-alpine-3.10-registry-trivy-0.72.0.json': { counts: { CRITICAL: 1 }, unfixed: 0, cleanTargets: 0 },
  'image-alpine39-all-severities.json': { counts: { MEDIUM: 4, CRITICAL: 2 }, unfixed: 0, cleanTargets: 0 },
  'image-alpine39-high-critical-ignore-unfixed.json': {
    counts: { CRITICAL: 2 },
    unfixed: 0,
    cleanTargets: 0,
  },
  'image-alpine39-skip-files-no-results.json': { counts: {}, unfixed: 0, cleanTargets: 0 },
  'image-alpine39-trivyignore-two-cves.json': { counts: { MEDIUM: 2 }, unfixed: 0, cleanTargets: 0 },
  'image-centos7-will-not-fix.json': { counts: { LOW: 2, MEDIUM: 1 }, unfixed: 1, cleanTargets: 0 },
  'image-debian-buster-fixed-and-affected.json': {
    counts: { LOW: 1, CRITICAL: 1 },
    unfixed: 1,
    cleanTargets: 0,
  },
  'image-fluentd-os-and-gems-two-targets.json': {
    counts: { CRITICAL: 1, HIGH: 1 },
    unfixed: 0,
    cleanTargets: 0,
  },
  'image-slmicro-clean-target-no-vulns.json': { counts: {}, unfixed: 0, cleanTargets: 1 },
  'repo-npm-lockfile-list-all-pkgs.json': { counts: { MEDIUM: 1 }, unfixed: 0, cleanTargets: 0 },
};

const jsonFixtures = fixtureFiles('trivy').filter((name) => name.endsWith('.json'));

describe('Trivy JSON reports: every fixture', () => {
  test('the expectation table covers every Trivy JSON fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(jsonFixtures);
  });

  test.each(jsonFixtures)('%s: counts, unfixed and suppressed', (name) => {
    const expected = EXPECTED[name];
    const report = parseTrivyJson(fixtureText(`trivy/${name}`), name);
    const all = gateTrivyReport(report, name, { severities: ALL, ignoreUnfixed: false });
    const total = Object.values(expected?.counts ?? {}).reduce((a, b) => a + b, 0);
    expect(all.selected).toHaveLength(total);
    for (const severity of SEVERITIES) expect(all.counts[severity]).toBe(expected?.counts[severity] ?? 0);
    expect(all.cleanTargets).toBe(expected?.cleanTargets);
    expect(all.selected.filter((f) => f.fixed.length === 0)).toHaveLength(expected?.unfixed ?? -1);

    const withoutUnfixed = gateTrivyReport(report, name, { severities: ALL, ignoreUnfixed: true });
    expect(withoutUnfixed.suppressed.unfixed).toBe(expected?.unfixed);
    expect(withoutUnfixed.selected).toHaveLength(total - (expected?.unfixed ?? 0));

    const gate = gateTrivyReport(report, name, { severities: HIGH_CRITICAL, ignoreUnfixed: false });
    expect(gate.selected).toHaveLength((expected?.counts.HIGH ?? 0) + (expected?.counts.CRITICAL ?? 0));
    expect(gate.selected.every((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL')).toBe(true);
  });

  test('both clean shapes pass: no Results key, and a Result with no Vulnerabilities key', () => {
    for (const name of ['image-alpine39-skip-files-no-results.json', 'image-slmicro-clean-target-no-vulns.json']) {
      const report = fixtureJson(`trivy/${name}`) as Record<string, unknown>;
      expect(gateTrivyReport(report, name, { severities: ALL, ignoreUnfixed: false }).selected).toEqual([]);
    }
    expect('Results' in (fixtureJson('trivy/image-alpine39-skip-files-no-results.json') as object)).toBe(false);
  });

  test('comma-separated fixed versions are split', () => {
    const gems = gateTrivyReport(fixtureJson('trivy/image-fluentd-os-and-gems-two-targets.json'), 'x', {
      severities: ALL,
      ignoreUnfixed: false,
    });
    expect(gems.selected.find((f) => f.id === 'CVE-2020-8165')?.fixed).toEqual(['6.0.3.1', '5.2.4.3']);
    const npm = gateTrivyReport(fixtureJson('trivy/fs-package-lock-vex-show-suppressed.json'), 'x', {
      severities: ALL,
      ignoreUnfixed: false,
    });
    expect(npm.selected[0]?.fixed).toEqual(['3.1.0', '2.6.9']);
  });

  test('unfixed and will-not-fix findings have no fixed version and keep their status', () => {
    const centos = gateTrivyReport(fixtureJson('trivy/image-centos7-will-not-fix.json'), 'x', {
      severities: ALL,
      ignoreUnfixed: false,
    });
    expect(centos.selected.find((f) => f.id === 'CVE-2019-18276')).toMatchObject({
      fixed: [],
      status: 'will_not_fix',
      severity: 'LOW',
    });
    const buster = gateTrivyReport(fixtureJson('trivy/image-debian-buster-fixed-and-affected.json'), 'x', {
      severities: ALL,
      ignoreUnfixed: false,
    });
    expect(buster.selected.find((f) => f.id === 'CVE-2019-18276')).toMatchObject({ fixed: [], status: 'affected' });
  });

  test('the suite-side filters give what Trivy itself gives: --severity HIGH,CRITICAL --ignore-unfixed', () => {
    const ours = gateTrivyReport(fixtureJson('trivy/image-alpine39-all-severities.json'), 'x', {
      severities: HIGH_CRITICAL,
      ignoreUnfixed: true,
    });
    const trivys = gateTrivyReport(fixtureJson('trivy/image-alpine39-high-critical-ignore-unfixed.json'), 'y', {
      severities: ALL,
      ignoreUnfixed: false,
    });
    expect(ours.selected.map((f) => [f.id, f.pkg, f.installed])).toEqual(
      trivys.selected.map((f) => [f.id, f.pkg, f.installed]),
    );
  });

  test('the suite-side ignore file gives what Trivy itself gives with a .trivyignore of two CVEs', () => {
    const rules = new IgnoreRules(
      parsePlainIgnore('# reviewed\nCVE-2019-1549\nCVE-2019-14697 exp:2999-12-31\nCVE-2000-0001\n', '.trivyignore'),
      '2026-11-25',
    );
    const ours = gateTrivyReport(fixtureJson('trivy/image-alpine39-all-severities.json'), 'x', {
      severities: ALL,
      ignoreUnfixed: false,
      ignore: rules,
    });
    const trivys = gateTrivyReport(fixtureJson('trivy/image-alpine39-trivyignore-two-cves.json'), 'y', {
      severities: ALL,
      ignoreUnfixed: false,
    });
    expect(ours.selected.map((f) => [f.id, f.pkg])).toEqual(trivys.selected.map((f) => [f.id, f.pkg]));
    expect(ours.suppressed.ignored).toBe(4);
    expect(rules.unmatched.map((e) => e.id)).toEqual(['CVE-2000-0001']);
  });

  test.each(fixtureFiles('trivy').filter((name) => name.endsWith('.sarif')))(
    '%s (SARIF, not a JSON report) is refused, never read as 0 findings',
    (name) => {
      expect(() =>
        gateTrivyReport(parseTrivyJson(fixtureText(`trivy/${name}`), name), name, {
          severities: ALL,
          ignoreUnfixed: false,
        }),
      ).toThrow(/cannot be read: it has no SchemaVersion/);
    },
  );

  test('empty, truncated and malformed reports are errors', () => {
    const text = fixtureText('trivy/image-alpine39-all-severities.json');
    expect(() => parseTrivyJson('', 'r.json')).toThrow(UserError);
    expect(() => parseTrivyJson(text.slice(0, text.length / 2), 'r.json')).toThrow(
      /r.json cannot be read: it is not valid JSON/,
    );
    const gate = (value: unknown) => () => gateTrivyReport(value, 'r.json', { severities: ALL, ignoreUnfixed: false });
    expect(gate([])).toThrow(/not a JSON object/);
    expect(gate({ SchemaVersion: 1 })).toThrow(/SchemaVersion 1 is not supported/);
    expect(gate({ SchemaVersion: 2, Results: {} })).toThrow(/"Results" is not a list/);
    expect(gate({ SchemaVersion: 2, Results: [{ Target: 't', Vulnerabilities: [{ Severity: 'HIGH' }] }] })).toThrow(
      /has no VulnerabilityID/,
    );
  });

  test('ignore-unfixed as Trivy decides it: every status but "fixed" is unfixed', () => {
    const vuln = (id: string, extra: object) => ({ VulnerabilityID: id, PkgName: 'p', Severity: 'HIGH', ...extra });
    const report = {
      SchemaVersion: 2,
      Results: [
        {
          Target: 't',
          Vulnerabilities: [
            vuln('CVE-1', { FixedVersion: '1.1', Status: 'fixed' }),
            vuln('CVE-2', { FixedVersion: '1.1', Status: 'will_not_fix' }),
            vuln('CVE-3', { Status: 'affected' }),
            vuln('CVE-4', { FixedVersion: '1.1' }), // no Status (older reports): the fixed version decides
          ],
        },
      ],
    };
    const gate = gateTrivyReport(report, 'r', { severities: ALL, ignoreUnfixed: true });
    expect(gate.selected.map((f) => f.id)).toEqual(['CVE-1', 'CVE-4']);
    expect(gate.suppressed.unfixed).toBe(2);
  });
});
