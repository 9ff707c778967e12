import { describe, expect, test } from '@jest/globals';
import { gateOsvReport, parseOsvJson, type Severity } from '../src/index.js';
import { fixtureFiles, fixtureJson, fixtureText } from './fixtures.js';

const HIGH_CRITICAL = new Set<Severity>(['HIGH', 'CRITICAL']);
const strict = { severities: HIGH_CRITICAL, blockUnscored: true, blockMalicious: true, blockUncalled: true };
const lenient = { severities: HIGH_CRITICAL, blockUnscored: false, blockMalicious: false, blockUncalled: true };

/** Per OSV fixture: groups by severity (from max_severity), sources, malicious advisories. */
const EXPECTED: Record<string, { counts: Record<string, number>; sources: number; malicious: number }> = {
  'empty-results.json': { counts: {}, sources: 0, malicious: 0 },
  'gomod-stdlib-empty-max-severity.json': { counts: {}, sources: 1, malicious: 0 },
  'multi-source-lockfiles-and-git-v1.json': { counts: {}, sources: 0, malicious: 0 },
  'npm-package-lock-max-severity.json': { counts: {}, sources: 1, malicious: 0 },
  'yarn-lock-malicious-package-no-severity.json': { counts: { UNSCORED: 1 }, sources: 1, malicious: 1 },
};

/** Independent reading of the fixture: the band of each group's max_severity, counted in plain loops. */
function bands(report: unknown): { counts: Record<string, number>; sources: number } {
  const counts: Record<string, number> = {};
  let sources = 0;
  for (const result of (report as { results: { packages: { groups: { max_severity?: string }[] }[] }[] }).results) {
    sources++;
    for (const pkg of result.packages) {
      for (const group of pkg.groups) {
        const raw = group.max_severity;
        const band =
          raw === undefined || raw === ''
            ? 'UNSCORED'
            : +raw >= 9
              ? 'CRITICAL'
              : +raw >= 7
                ? 'HIGH'
                : +raw >= 4
                  ? 'MEDIUM'
                  : 'LOW';
        counts[band] = (counts[band] ?? 0) + 1;
      }
    }
  }
  return { counts, sources };
}

const files = fixtureFiles('osv-scanner').filter((name) => name.endsWith('.json'));

describe('OSV-Scanner reports: every fixture', () => {
  test('the expectation table covers every OSV JSON fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
  });

  test.each(files)('%s: severities from max_severity, the gate, and the opt-outs', (name) => {
    const report = parseOsvJson(fixtureText(`osv-scanner/${name}`), name);
    const independent = bands(report);
    const gate = gateOsvReport(report, name, strict);
    const counted = Object.fromEntries(Object.entries(gate.counts).filter(([, n]) => n > 0));
    expect(counted).toEqual(independent.counts);
    expect(gate.sources).toBe(independent.sources);
    expect(gate.malicious).toBe(EXPECTED[name]?.malicious);
    const blocking = (independent.counts.HIGH ?? 0) + (independent.counts.CRITICAL ?? 0);
    expect(gate.selected).toHaveLength(blocking + (independent.counts.UNSCORED ?? 0));
    expect(gateOsvReport(report, name, lenient).selected).toHaveLength(blocking);
  });

  test('npm: CVSS scores map to bands (>= 9.0 CRITICAL, >= 7.0 HIGH)', () => {
    const gate = gateOsvReport(fixtureJson('osv-scanner/npm-package-lock-max-severity.json'), 'x', strict);
    const babel = gate.selected.find((f) => f.pkg === 'babel-traverse');
    expect(babel).toMatchObject({
      severity: 'CRITICAL',
      score: 9.3,
      installed: '6.11.4',
      target: './testdata/javascript/package-lock.json',
    });
    expect(gate.selected.find((f) => f.pkg === 'ansi-regex')).toMatchObject({ severity: 'HIGH', score: 7.5 });
    expect(gate.selected.find((f) => f.pkg === 'adm-zip')).toBeUndefined();
    expect(gate.counts.MEDIUM).toBeGreaterThan(0);
    // Fixed versions come from the advisory's ranges for this package name: GHSA-67hx names @babel/traverse only.
    expect(babel?.fixed).toEqual([]);
    // ansi-regex 3.0.0: of the ranges fixed in 6.0.1, 5.0.1, 4.1.1 and 3.0.1, only the last contains it.
    expect(gate.selected.find((f) => f.pkg === 'ansi-regex')?.fixed).toEqual(['3.0.1']);
    expect(gate.selected.find((f) => f.pkg === 'async')?.fixed).toEqual(['2.6.4']);
  });

  test('go: max_severity "" is unscored and blocks by default, not with block-unscored false', () => {
    const report = fixtureJson('osv-scanner/gomod-stdlib-empty-max-severity.json');
    const gate = gateOsvReport(report, 'x', strict);
    const stdlib = gate.selected.filter((f) => f.pkg === 'stdlib');
    expect(stdlib.length).toBeGreaterThan(0);
    expect(stdlib.every((f) => f.severity === 'UNSCORED' && f.score === undefined)).toBe(true);
    expect(gateOsvReport(report, 'x', lenient).selected.some((f) => f.pkg === 'stdlib')).toBe(false);
  });

  test('go: groups call analysis found not called block unless block-uncalled is false', () => {
    const report = fixtureJson('osv-scanner/gomod-stdlib-empty-max-severity.json');
    const all = gateOsvReport(report, 'x', strict);
    const called = gateOsvReport(report, 'x', { ...strict, blockUncalled: false });
    expect(all.uncalled).toBe(11);
    expect(called.uncalled).toBe(11);
    const uncalledIds = new Set(
      JSON.stringify(report)
        .match(/"(GO-\d+-\d+)":\{"called":false/g)
        ?.map((m) => m.slice(1, m.indexOf('"', 1))),
    );
    expect(all.selected.filter((f) => uncalledIds.has(f.id))).toHaveLength(9); // two more are below HIGH
    expect(called.selected).toEqual(all.selected.filter((f) => !uncalledIds.has(f.id)));
    expect(called.selected.map((f) => f.id)).toContain('GO-2025-3373');
    expect(called.selected.map((f) => f.id)).not.toContain('GO-2025-3487');
  });

  test('v1 output without max_severity: every group is unscored; git sources report the commit', () => {
    const report = fixtureJson('osv-scanner/multi-source-lockfiles-and-git-v1.json');
    const gate = gateOsvReport(report, 'x', strict);
    expect(gate.counts.UNSCORED).toBe(gate.selected.length);
    expect(gate.selected.find((f) => f.target === '/tmprengine/')).toMatchObject({
      id: 'CVE-2023-50094',
      installed: 'f5f3c22f3ed5a6804a2a8d9ee9fa43044cfa24a6',
    });
    expect(gateOsvReport(report, 'x', lenient).selected).toEqual([]);
  });

  test('a malicious package (MAL-) blocks unless block-malicious is false, even with block-unscored false', () => {
    const report = fixtureJson('osv-scanner/yarn-lock-malicious-package-no-severity.json');
    const mal = gateOsvReport(report, 'x', { ...strict, blockUnscored: false });
    expect(mal.selected).toHaveLength(1);
    expect(mal.selected[0]).toMatchObject({
      id: 'MAL-2023-1035',
      malicious: true,
      pkg: 'flot-axis',
      fixed: [],
      target: '/tmp/components/yarn.lock',
    });
    expect(gateOsvReport(report, 'x', { ...strict, blockMalicious: false }).selected).toHaveLength(1);
    expect(gateOsvReport(report, 'x', lenient).selected).toHaveLength(0);
  });

  test('unreadable reports are errors', () => {
    expect(() => gateOsvReport({}, 'o.json', strict)).toThrow(/o.json cannot be read: it has no "results" list/);
    expect(() => gateOsvReport({ results: [{ packages: [] }] }, 'o.json', strict)).toThrow(/has no source.path/);
    expect(() => parseOsvJson('{"results": [', 'o.json')).toThrow(/not valid JSON/);
  });
});
