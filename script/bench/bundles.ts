// Each bundle's size and cold start: median of 20 runs of `node dist/<action>/index.js` with no inputs (it
// fails fast on the first required input, which is the start-up cost a step pays), against `node -e 0`.
// install-tools is false so scan-repo, whose inputs all have defaults, stops at "trivy is not on PATH"
// instead of downloading.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '@golden-image/testkit';

export function benchBundles(runs = 20): string[] {
  const env = { PATH: '/usr/bin:/bin', RUNNER_TEMP: tempDir(), 'INPUT_INSTALL-TOOLS': 'false' };
  const time = (args: string[]) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      spawnSync(process.execPath, args, { env, stdio: 'ignore' });
      samples.push(performance.now() - started);
    }
    return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
  };
  const baseline = time(['-e', '0']);
  const lines = [`bundle sizes and cold start, median of ${runs} runs (node -e 0: ${baseline.toFixed(0)} ms):`];
  for (const name of readdirSync(join(repoRoot, 'dist')).sort()) {
    const file = join(repoRoot, 'dist', name, 'index.js');
    const kib = statSync(file).size / 1024;
    const start = time([file]);
    lines.push(
      `  ${name.padEnd(13)} ${kib.toFixed(0).padStart(6)} KiB  ${start.toFixed(0).padStart(4)} ms  (+${(start - baseline).toFixed(0)} ms over node -e 0)`,
    );
  }
  return lines;
}
