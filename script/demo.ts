// npm run demo: the chain, end to end, on a sample two-platform image against a local registry, through the
// bundled actions exactly as the runner runs them (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
// Steps whose tool cannot run on this machine say so and are skipped; nothing is faked.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  repoRoot,
  runBundledAction,
  type StepResult,
  startRegistry,
  tempDir,
} from '@golden-image/testkit';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

async function step(action: string, inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<StepResult> {
  console.log(`\n${bold(`▶ ${action}`)}`);
  for (const [name, value] of Object.entries(inputs)) console.log(`    with ${name}: ${value.replaceAll('\n', '\\n')}`);
  const result = await runBundledAction(action, inputs, { env });
  const log = result.log.trim();
  if (log) console.log(log.replace(/^/gm, '    │ '));
  console.log(`  exit code ${result.exitCode}`);
  for (const [name, value] of Object.entries(result.outputs))
    console.log(`  output ${name} = ${value.replaceAll('\n', '\\n')}`);
  if (result.summary.trim()) console.log(`  job summary:\n${result.summary.trim().replace(/^/gm, '    ')}`);
  if (result.exitCode !== 0)
    throw new Error(`${action} failed (exit ${result.exitCode}); the chain stops here, as it would on a runner.`);
  return result;
}

function skip(action: string, why: string) {
  console.log(`\n${bold(`▷ ${action}: skipped`)}: ${why}`);
}

if (!existsSync(join(repoRoot, 'dist', 'push-layout', 'index.js'))) {
  console.error('dist/ is missing: run `npm run bundle` first.');
  process.exit(1);
}

const registry = await startRegistry();
const image = `${registry.host}/demo/golden-image-sample`;
console.log(`Local registry on ${registry.host} (storage ${registry.storage}); image ${image}`);
try {
  const layoutPath = join(tempDir('golden-image-demo-'), 'layout');
  const built = await buildLayout(layoutPath, {
    platforms: ['linux/amd64', 'linux/arm64'],
    layerSizes: [256 * 1024],
    seed: 'demo',
  });
  console.log(
    `\n${bold('▶ sample image')}: a deterministic two-platform layout with provenance attestations at ${layoutPath}`,
  );
  console.log(`  digest ${built.digest}`);
  const digest = built.digest;

  skip('scan-layout', 'not wired into the demo yet.');

  const pushed = await step('push-layout', {
    'layout-path': layoutPath,
    digest,
    image,
    tags: 'sha-0d3m0',
    'tls-verify': 'false',
  });

  skip('sign-digest', 'not wired into the demo yet.');

  await step('promote-tags', {
    image,
    digest: pushed.outputs.digest ?? '',
    tags: 'latest\nnightly\nnightly-{date}',
    engine: 'skopeo',
    'tls-verify': 'false',
  });
  console.log(`\n${bold('✔ chain complete')}: ${image}@${digest}`);
} finally {
  await registry.stop();
}
