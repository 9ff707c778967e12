// Secrets, misconfigurations and licenses in an image report (scan-layout's scanners input), read from a report the
// real Trivy 0.74 wrote here (test/fixtures/recorded/README.md), gated like vulnerabilities.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import {
  buildSarif,
  findingsTable,
  gateTrivyReport,
  IgnoreRules,
  imageLabel,
  parsePlainIgnore,
  parseYamlIgnore,
  renamedTarget,
  type Severity,
  withImageTargets,
} from '../src/index.js';

const RECORDED = fileURLToPath(
  new URL('../../../test/fixtures/recorded/trivy-0.74-image-secret-misconfig-license.json', import.meta.url),
);
const report = JSON.parse(readFileSync(RECORDED, 'utf8')) as { ArtifactName: string; Results: { Target: string }[] };
const HIGH = new Set<Severity>(['HIGH', 'CRITICAL']);
const gate = (ignore = IgnoreRules.empty(), severities = HIGH) =>
  gateTrivyReport(report, 'recorded', { severities, ignoreUnfixed: true, ignore, platform: 'linux/amd64' });

describe('secrets, misconfigurations and licenses are gated like vulnerabilities', () => {
  test('every kind at the blocking severities is selected; misconfiguration passes never count', () => {
    const { selected, counts } = gate();
    const ids = selected.map((f) => `${f.kind} ${f.id} ${f.target}`).sort();
    expect(ids).toEqual(
      [
        'license GPL-3.0-only app/node_modules/leftpad/package.json',
        'misconfig DS-0002 app/Dockerfile',
        'misconfig DS-0002 out',
        'misconfig DS-0031 app/Dockerfile',
        'misconfig DS-0031 out',
        'misconfig KSV-0014 app/k8s/pod.yaml',
        'misconfig KSV-0017 app/k8s/pod.yaml',
        'misconfig KSV-0118 app/k8s/pod.yaml',
        'secret aws-access-key-id /app/config.env:1',
        'secret github-pat /app/Dockerfile:2',
        'secret github-pat out:30',
        'secret github-pat out:7',
      ].sort(),
    );
    // ignore-unfixed is about vulnerabilities' fixes: it suppresses none of these
    expect(counts.CRITICAL + counts.HIGH).toBe(selected.length);
    expect(counts.LOW).toBeGreaterThan(0);
    expect(selected.find((f) => f.kind === 'license')?.pkg).toBe('leftpad');
    expect(selected.find((f) => f.kind === 'license')?.title).toBe('restricted license');
  });

  test('a plain ignore file applies to every kind (as Trivy 0.74 applied it to this image)', () => {
    const ignore = new IgnoreRules(parsePlainIgnore('github-pat\nGPL-3.0-only\nDS-0002\n', 'plain'));
    const ids = new Set(gate(ignore).selected.map((f) => f.id));
    for (const id of ['github-pat', 'GPL-3.0-only', 'DS-0002']) expect(ids.has(id)).toBe(false);
    expect(ids.has('aws-access-key-id')).toBe(true);
    expect(ignore.unmatched).toEqual([]);
  });

  test('a YAML ignore file applies each section to its own kind only, paths against the target Trivy gives', () => {
    const yaml = [
      'secrets:',
      '  - id: aws-access-key-id',
      '    paths: ["app/config.env"]', // Trivy's secret target is /app/config.env: no match, as in Trivy
      'licenses:',
      '  - id: GPL-3.0-only',
      'misconfigurations:',
      '  - id: KSV-0017',
      '    paths: ["app/k8s/*"]',
      '  - id: DS-0031',
      'vulnerabilities:',
      '  - id: github-pat', // the wrong section: suppresses no secret
    ].join('\n');
    const ignore = new IgnoreRules(parseYamlIgnore(yaml, 'y.trivyignore.yaml'));
    ignore.sections = new Set(['vulnerabilities', 'secrets', 'misconfigurations', 'licenses']);
    const left = gate(ignore).selected.map((f) => `${f.id} ${f.target}`);
    // What Trivy 0.74 itself left with this file (recorded alongside the fixture): aws-access-key-id, github-pat
    // (three times), DS-0002 (twice).
    expect(
      left.filter((x) => /^(aws-access-key-id|github-pat|DS-0002|DS-0031|KSV-0017|GPL-3\.0-only) /.test(x)).sort(),
    ).toEqual(
      [
        'DS-0002 app/Dockerfile',
        'DS-0002 out',
        'aws-access-key-id /app/config.env:1',
        'github-pat /app/Dockerfile:2',
        'github-pat out:30',
        'github-pat out:7',
      ].sort(),
    );
    expect(ignore.unmatched.map((e) => `${e.section} ${e.id}`).sort()).toEqual([
      'secrets aws-access-key-id',
      'vulnerabilities github-pat',
    ]);
  });

  test('sections that were not scanned are never reported as matching nothing', () => {
    const ignore = new IgnoreRules(parseYamlIgnore('secrets:\n  - id: aws-access-key-id\n', 'y.yaml'));
    expect(ignore.unmatched).toEqual([]);
    ignore.sections = new Set(['vulnerabilities', 'secrets']);
    expect(ignore.unmatched.map((e) => e.id)).toEqual(['aws-access-key-id']);
  });

  test('the summary table and SARIF say what kind each finding is', () => {
    const selected = gate().selected;
    const table = findingsTable(selected, true);
    expect(table).toContain('| linux/amd64 | CRITICAL | secret aws-access-key-id |  |  |  | /app/config.env:1 |');
    expect(table).toContain('| license GPL-3.0-only | leftpad |');
    const sarif = JSON.stringify(
      buildSarif([{ tool: 'Trivy', informationUri: 'x', findings: selected, locate: (f) => f.target }]),
    );
    expect(sarif).toContain('"name":"Secret"');
    expect(sarif).toContain(
      'secret aws-access-key-id (CRITICAL): AWS Access Key ID on linux/amd64, target /app/config.env:1',
    );
  });
});

describe("the report names the image and platform, not Trivy's scratch directory", () => {
  test('the directory and "directory (os)" targets are renamed; files in the image are not', () => {
    const label = imageLabel('linux/arm64', 'ghcr.io/o/app', `sha256:${'ab'.repeat(32)}`);
    expect(label).toBe('ghcr.io/o/app linux/arm64');
    expect(imageLabel('linux/arm64', undefined, `sha256:${'ab'.repeat(32)}`)).toBe(
      'image sha256:abababababab… linux/arm64',
    );
    const dir = '/home/runner/work/_temp/golden-image-scan-layout/platform-1';
    expect(renamedTarget(`${dir} (alpine 3.20.3)`, dir, label)).toBe('ghcr.io/o/app linux/arm64 (alpine 3.20.3)');
    expect(renamedTarget('usr/local/bin/app', dir, label)).toBe('usr/local/bin/app');
    const renamed = withImageTargets(report, 'out', label) as typeof report;
    expect(renamed.ArtifactName).toBe(label);
    expect(renamed.Results.map((r) => r.Target)).toContain(label);
    expect(renamed.Results.map((r) => r.Target)).not.toContain('out');
    expect(report.ArtifactName).toBe('out'); // a copy: the parsed report is not changed
  });
});
