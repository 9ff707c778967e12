// npm run demo: the chain, end to end, on a sample two-platform image against a local registry, through the
// bundled actions exactly as the runner runs them (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
// Steps whose tool cannot run on this machine say so and are skipped; nothing is faked.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  createTestContext,
  repoRoot,
  runBundledAction,
  type StepResult,
  startRegistry,
  tempDir,
} from '@golden-image/testkit';
import { ensureTool } from '@golden-image/tools';

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

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
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
  // Trivy and cosign come from their GitHub releases (pinned, checksummed); without a route there, say so.
  const online = await reachable('https://github.com');
  const toolEnv = { RUNNER_TOOL_CACHE: join(repoRoot, '.tmp', 'tool-cache') };
  if (online) {
    await step('scan-repo', { path: join(repoRoot, 'test/fixtures/sample-image'), sbom: 'true' }, toolEnv);
  } else {
    skip(
      'scan-repo',
      'OSV-Scanner, Trivy and Syft cannot be downloaded here (github.com is unreachable); the e2e workflow runs them.',
    );
  }

  let layoutPath: string;
  let digest: string;
  if (commandExists('buildah')) {
    // SOURCE_DATE_EPOCH makes the build reproducible: every run of the demo builds the same digest.
    const built = await step(
      'build-oci',
      {
        context: join(repoRoot, 'test/fixtures/sample-image'),
        platforms: 'linux/amd64,linux/arm64',
        builder: 'buildah',
        provenance: 'false',
        sbom: 'false',
      },
      { SOURCE_DATE_EPOCH: '0' },
    );
    layoutPath = built.outputs['layout-path'] ?? '';
    digest = built.outputs.digest ?? '';
  } else {
    skip(
      'build-oci',
      'buildah is not installed here (and docker buildx does not run on this machine); using a generated layout.',
    );
    layoutPath = join(tempDir('golden-image-demo-'), 'layout');
    const built = await buildLayout(layoutPath, {
      platforms: ['linux/amd64', 'linux/arm64'],
      layerSizes: [256 * 1024],
      seed: 'demo',
    });
    console.log(`  generated a deterministic two-platform layout with provenance attestations at ${layoutPath}`);
    digest = built.digest;
  }

  if (online) {
    await step('scan-layout', { 'layout-path': layoutPath, digest }, toolEnv);
  } else {
    skip(
      'scan-layout',
      'Trivy cannot be downloaded here (github.com is unreachable); the e2e workflow runs it for real.',
    );
  }

  const pushed = await step('push-layout', {
    'layout-path': layoutPath,
    digest,
    image,
    tags: 'sha-0d3m0',
    'tls-verify': 'false',
  });

  let signature: Record<string, string> = { 'require-signature': 'false' };
  if (online) {
    const keyDir = tempDir('golden-image-demo-key-');
    const password = 'demo-throwaway';
    const { ctx } = createTestContext({}, { env: { ...process.env, ...toolEnv } });
    process.env.RUNNER_TOOL_CACHE = toolEnv.RUNNER_TOOL_CACHE;
    const cosign = await ensureTool(ctx, { tool: 'cosign', install: true });
    execFileSync(cosign, ['generate-key-pair'], {
      cwd: keyDir,
      env: { ...process.env, COSIGN_PASSWORD: password },
      stdio: 'inherit',
    });
    await step(
      'sign-digest',
      { image, digest: pushed.outputs.digest ?? '', key: join(keyDir, 'cosign.key'), 'tls-verify': 'false' },
      { ...toolEnv, COSIGN_PASSWORD: password },
    );
    signature = { key: join(keyDir, 'cosign.pub') };
  } else {
    skip(
      'sign-digest',
      'cosign cannot be downloaded here (github.com is unreachable); promotion below runs with require-signature: false and says so.',
    );
  }

  await step(
    'promote-tags',
    {
      image,
      digest: pushed.outputs.digest ?? '',
      tags: 'latest\nnightly\nnightly-{date}',
      engine: 'skopeo',
      'tls-verify': 'false',
      ...signature,
    },
    toolEnv,
  );
  console.log(`\n${bold('✔ chain complete')}: ${image}@${digest}`);
} finally {
  await registry.stop();
}
