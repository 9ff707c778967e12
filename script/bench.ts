// npm run bench: prints the suite's speed and size figures. Goals are printed beside the figures; nothing here
// fails on a slow machine (these machines are noisy), and no test asserts a time.
import './own-tmpdir.ts';
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchBundles } from './bench/bundles.ts';
import { benchChain } from './bench/chain.ts';
import { benchLayoutVerification } from './bench/layout.ts';
import { benchMerge } from './bench/merge.ts';
import { benchPush } from './bench/push.ts';
import { benchScanLayout } from './bench/scan-layout.ts';
import { benchWorkflow } from './bench/workflow.ts';

console.log(`golden-image benchmark, ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
);

// `npm run bench -- chain`: the root action beside the usual stack, with the real tools (minutes); alone.
if (process.argv.includes('chain')) {
  console.log('## the root action beside the usual stack (docker buildx build --push, trivy image, cosign sign)');
  for (const line of await benchChain()) console.log(line);
  process.exit(0);
}

// `npm run bench -- workflow [runs]`: the reusable workflow beside the root action, both run by act (minutes); alone.
if (process.argv.includes('workflow')) {
  console.log('## the reusable workflow (Quick start) beside the root action, both through act');
  const runs = Number(process.argv[process.argv.indexOf('workflow') + 1]) || 2;
  for (const line of await benchWorkflow(runs)) console.log(line);
  process.exit(0);
}

console.log('## push-layout and promote-tags');
for (const line of await benchPush()) console.log(line);

console.log('\n## layout verification');
for (const line of await benchLayoutVerification()) console.log(line);

console.log('\n## merge-layouts');
for (const line of await benchMerge()) console.log(line);

console.log('\n## scan-layout with the real Trivy: two platforms against one');
for (const line of await benchScanLayout()) console.log(line);

console.log('\n## bundles');
console.log('(the root action beside the usual stack: npm run bench -- chain)');
for (const line of benchBundles()) console.log(line);

// The report benchmark measures each mode in a fresh process of its own.
console.log('\n## report gating (scan-layout / scan-repo)');
const scan = spawnSync(
  process.execPath,
  [...process.execArgv, fileURLToPath(new URL('bench-scan.ts', import.meta.url))],
  {
    stdio: 'inherit',
  },
);
if (scan.status !== 0) process.exitCode = 1;
