// Each bundle's size and cold start: median of 20 runs of `node dist/<action>/index.js` with no inputs (it
// fails fast on the first required input, which is the start-up cost a step pays), against `node -e 0`.
// Every run starts in an empty workspace (its working directory and GITHUB_WORKSPACE): an action whose inputs all
// have defaults (pack-npm packs ".", scan-repo scans ".") then stops at its first check instead of doing real work
// on whatever directory the bench was started in. install-tools is false so scan-repo stops at "trivy is not on
// PATH" instead of downloading.
// A second figure for pack-npm is its whole run on a small package, cold: node, the bundle, one `npm pack`, the
// re-hash, the outputs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '@golden-image/testkit';
import { fixturePackage } from '../../test/fixtures/npm/fixtures.ts';

export function benchBundles(runs = 20): string[] {
  const workspace = tempDir('golden-image-bench-empty-');
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/bin:/bin',
    RUNNER_TEMP: tempDir(),
    GITHUB_WORKSPACE: workspace,
    'INPUT_INSTALL-TOOLS': 'false',
  };
  const time = (args: string[], extra: NodeJS.ProcessEnv = {}, n = runs) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      spawnSync(process.execPath, args, { env: { ...env, ...extra }, cwd: workspace, stdio: 'ignore' });
      samples.push(performance.now() - started);
    }
    return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
  };
  const baseline = time(['-e', '0']);
  const lines = [
    `bundle sizes and cold start (to the first refusal, in an empty workspace), median of ${runs} runs (node -e 0: ${baseline.toFixed(0)} ms):`,
  ];
  for (const name of readdirSync(join(repoRoot, 'dist')).sort()) {
    const file = join(repoRoot, 'dist', name, 'index.js');
    const kib = statSync(file).size / 1024;
    const start = time([file]);
    lines.push(
      `  ${name.padEnd(13)} ${kib.toFixed(0).padStart(6)} KiB  ${start.toFixed(0).padStart(4)} ms  (+${(start - baseline).toFixed(0)} ms over node -e 0)`,
    );
  }
  // pack-npm's whole run on a two-file package, each run packing a fresh copy (npm is found on the job's PATH).
  const packRuns = Math.max(3, Math.floor(runs / 4));
  const samples: number[] = [];
  for (let i = 0; i < packRuns; i++) {
    const dir = fixturePackage('simple', mkdtempSync(join(tempDir(), 'pack-')));
    samples.push(
      time(
        [join(repoRoot, 'dist', 'pack-npm', 'index.js')],
        {
          PATH: process.env.PATH,
          INPUT_PATH: dir,
          GITHUB_OUTPUT: join(dir, '..', 'out'),
          GITHUB_STEP_SUMMARY: join(dir, '..', 'summary'),
        },
        1,
      ),
    );
  }
  const pack = [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
  lines.push(
    `  pack-npm, a whole run on a small package (test/fixtures/npm/simple: node, the bundle, one npm pack, the re-hash), median of ${packRuns}: ${pack.toFixed(0)} ms`,
  );
  return lines;
}
