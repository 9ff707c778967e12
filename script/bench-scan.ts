// Benchmark: gate + summary + SARIF for a Trivy report of 100,000 findings, against a bare JSON.parse of the same
// file (goal: at most 2x), with peak memory. Prints figures only. Run: npx tsx script/bench-scan.ts [count]
// Each measurement runs in a fresh child process so its peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const trivyFixtures = fileURLToPath(new URL('../test/fixtures/third-party/trivy/', import.meta.url));

type Mode = 'parse' | 'full';

async function child(mode: Mode, file: string): Promise<void> {
  const started = process.hrtime.bigint();
  const report = JSON.parse(readFileSync(file, 'utf8'));
  let extra = '';
  if (mode === 'full') {
    const {
      buildSarif,
      countsTable,
      findingsTable,
      gateTrivyReport,
      IgnoreRules,
      ignoreSection,
      parsePlainIgnore,
      SEVERITIES,
    } = await import('../packages/scanners/src/index.js');
    const ignore = new IgnoreRules(
      parsePlainIgnore('CVE-2019-1549\nCVE-2000-0001 exp:2020-01-01\n', '.trivyignore'),
      '2026-11-25',
    );
    const gate = gateTrivyReport(report, file, { severities: new Set(SEVERITIES), ignoreUnfixed: false, ignore });
    const summary = [
      countsTable([['linux/amd64', gate.counts]], 'Platform'),
      findingsTable(gate.selected, true),
      ignoreSection(ignore),
    ].join('\n');
    const sarif = JSON.stringify(
      buildSarif([
        {
          tool: 'Trivy',
          informationUri: 'https://github.com/aquasecurity/trivy',
          findings: gate.selected,
          locate: (f) => f.target,
        },
      ]),
    );
    extra = `${gate.selected.length} findings gated, ${gate.suppressed.ignored} ignored, summary ${summary.length} chars, SARIF ${sarif.length} bytes`;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ ms, peakRssMiB: process.resourceUsage().maxRSS / 1024, extra }));
}

function buildReport(count: number, file: string): number {
  const records: unknown[] = [];
  let template: Record<string, unknown> | undefined;
  for (const name of readdirSync(trivyFixtures).filter((n) => n.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(join(trivyFixtures, name), 'utf8'));
    for (const result of report.Results ?? []) {
      for (const vuln of result.Vulnerabilities ?? []) records.push(vuln);
      if (!template && result.Vulnerabilities?.length) template = { ...report };
    }
  }
  const vulns = Array.from({ length: count }, (_, i) => {
    const record = records[i % records.length] as Record<string, unknown>;
    // Distinct packages so rules and results are not trivially deduplicated.
    return { ...record, PkgName: `${record.PkgName}-${Math.floor(i / records.length)}` };
  });
  const report = {
    ...template,
    Results: [{ Target: 'bench (alpine 3.9.4)', Class: 'os-pkgs', Type: 'alpine', Vulnerabilities: vulns }],
  };
  const text = JSON.stringify(report);
  writeFileSync(file, text);
  return text.length;
}

function measure(mode: Mode, file: string): { ms: number; peakRssMiB: number; extra: string } {
  const result = spawnSync(process.execPath, [...process.execArgv, here, '--child', mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (result.status !== 0) throw new Error(`child ${mode} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as Mode, process.argv[4] as string);
} else {
  const count = Number(process.argv[2] ?? 100_000);
  const file = join(mkdtempSync(join(tmpdir(), 'bench-scan-')), 'trivy-report.json');
  const bytes = buildReport(count, file);
  console.log(
    `Trivy report: ${count} findings built from the fixture records, ${(bytes / 1048576).toFixed(1)} MiB (${file})`,
  );
  const runs = 3;
  const parse = Array.from({ length: runs }, () => measure('parse', file));
  const full = Array.from({ length: runs }, () => measure('full', file));
  const row = (name: string, samples: typeof parse) =>
    `${name.padEnd(38)} ${median(samples.map((s) => s.ms))
      .toFixed(0)
      .padStart(7)} ms  ${median(samples.map((s) => s.peakRssMiB))
      .toFixed(0)
      .padStart(6)} MiB peak RSS`;
  console.log(
    `median of ${runs} runs, each in a fresh process (read + work; node start-up excluded from time, included in RSS):`,
  );
  console.log(row('JSON.parse alone', parse));
  console.log(row('parse + gate + summary + SARIF', full));
  console.log(`  ${full[0]?.extra}`);
  const timeRatio = median(full.map((s) => s.ms)) / median(parse.map((s) => s.ms));
  const memRatio = median(full.map((s) => s.peakRssMiB)) / median(parse.map((s) => s.peakRssMiB));
  console.log(`ratio: time ${timeRatio.toFixed(2)}x, peak memory ${memRatio.toFixed(2)}x (goal: at most 2x)`);
}
