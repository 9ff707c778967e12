// scan-layout with the real Trivy (npm run tools:real) and the project's offline DB (pulled by digest from a local
// registry, as every step pulls it): two platforms against one.
// Goal: two platforms cost at most 1.3x one. The platforms are scanned at once (each Trivy keeps its scan cache in
// memory and opens the DBs read-only), so a second platform costs a second core rather than a second turn. Prints
// figures only.
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, type ToolRunner } from '@golden-image/kit';
import {
  alpineFiles,
  buildLayout,
  createTestContext,
  pathDirFor,
  pushTrivyDbArtifact,
  realTool,
  startRegistry,
} from '@golden-image/testkit';
import { main } from '../../actions/scan-layout/main.ts';

/** An application layer: `modules` npm packages (a package.json and some code each). */
function appFiles(modules: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < modules; i++) {
    files[`app/node_modules/pkg-${i}/package.json`] = JSON.stringify({ name: `pkg-${i}`, version: `1.0.${i}` });
    files[`app/node_modules/pkg-${i}/index.js`] = `module.exports = ${i};\n${'// filler\n'.repeat(200)}`;
  }
  return files;
}

export async function benchScanLayout(runs = 5, modules = 1500): Promise<string[]> {
  let trivy: string | undefined;
  try {
    trivy = realTool('trivy');
  } catch {
    trivy = undefined;
  }
  if (!trivy) return ["skipped: the real trivy is not here (run 'npm run tools:real trivy' first)"];

  const load = loadavg()[0] ?? 0;
  const root = mkdtempSync(join(tmpdir(), 'golden-image-bench-scan-layout-'));
  const base = (platform: string) => alpineFiles(platform, { musl: '1.2.5-r1', busybox: '1.36.1-r30' });
  // Per-architecture base layers and one application layer, the same bytes on each (as a COPY onto each base gives).
  const build = (name: string, platforms: string[]) =>
    buildLayout(join(root, name), {
      platforms,
      files: Object.fromEntries(platforms.map((p) => [p, base(p)])),
      sharedFiles: appFiles(modules),
    });
  const layouts = { one: await build('one', ['linux/amd64']), two: await build('two', ['linux/amd64', 'linux/arm64']) };
  const savedPath = process.env.PATH;
  process.env.PATH = `${pathDirFor({ trivy })}:${savedPath}`;

  const exec = new ExecRunner();
  const quiet: ToolRunner = { run: (tool, args, options) => exec.run(tool, args, { ...options, silent: true }) };
  const registry = await startRegistry();
  const mirror = await pushTrivyDbArtifact(registry, 'mirror/trivy-db');
  const scan = async (layout: { path: string; digest: string }) => {
    const tempDir = mkdtempSync(join(root, 'job-'));
    // Timed with the DB step: resolving the tag, pulling the small offline DB from loopback, hashing, extracting.
    const { ctx } = createTestContext(
      {
        'layout-path': layout.path,
        digest: layout.digest,
        'install-tools': 'false',
        'db-repository': mirror,
        'cache-db': 'false',
      },
      { env: { ...process.env, GITHUB_WORKSPACE: tempDir }, tempDir, runner: quiet },
    );
    const started = performance.now();
    await main(ctx);
    return performance.now() - started;
  };

  const times = { one: [] as number[], two: [] as number[] };
  await scan(layouts.one); // warm the page cache and Trivy's binary
  for (let run = 0; run < runs; run++) {
    times.one.push(await scan(layouts.one));
    times.two.push(await scan(layouts.two));
  }
  process.env.PATH = savedPath;
  await registry.stop();
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const min = (values: number[]) => Math.min(...values);
  return [
    `load average at the start: ${load.toFixed(1)} on ${availableParallelism()} cores (others' work slows the second platform most)`,
    `scan-layout with the real Trivy and the offline DB; images: Alpine files + ${modules} npm packages; ${runs} runs:`,
    `  one platform:  median ${Math.round(med(times.one))} ms, best ${Math.round(min(times.one))} ms`,
    `  two platforms: median ${Math.round(med(times.two))} ms, best ${Math.round(min(times.two))} ms`,
    `  ratio two / one: median ${(med(times.two) / med(times.one)).toFixed(2)}, best ${(min(times.two) / min(times.one)).toFixed(2)}  (goal <= 1.3)`,
  ];
}
