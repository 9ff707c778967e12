// npm run demo: the chain, end to end, on a sample two-platform image against a local registry, through the
// bundled actions exactly as the runner runs them (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY).
// Scanners and cosign: downloaded (pinned, checksummed) where github.com is reachable, else the real binaries of
// `npm run tools:real` when they are there; a step whose tool is neither says so and is skipped. Nothing is faked.
import './own-tmpdir.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  createTestContext,
  offlineOsvDb,
  pushTrivyDbArtifact,
  realToolsBin,
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

/** The pinned cosign release, through the suite's own installer (checksum verified). */
async function downloadCosign(env: NodeJS.ProcessEnv): Promise<string> {
  process.env.RUNNER_TOOL_CACHE = env.RUNNER_TOOL_CACHE;
  const { ctx } = createTestContext({}, { env: { ...process.env, ...env } });
  return ensureTool(ctx, { tool: 'cosign', install: true });
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
  // Where the tools come from: the pinned downloads, or the real binaries built here, or nowhere (then skipped).
  const online = await reachable('https://github.com');
  const built = ['trivy', 'osv-scanner', 'syft', 'cosign'].every((bin) => existsSync(join(realToolsBin, bin)));
  const tools = online || built;
  const toolEnv: NodeJS.ProcessEnv = online
    ? { RUNNER_TOOL_CACHE: join(repoRoot, '.tmp', 'tool-cache') }
    : { PATH: `${realToolsBin}:${process.env.PATH ?? ''}` };
  const toolInputs: Record<string, string> = online ? {} : { 'install-tools': 'false' };
  const noTools = 'github.com is unreachable and the real tools are not built here (npm run tools:real builds them)';
  if (!online && built)
    console.log(`github.com is unreachable: using the real tools built by npm run tools:real (${realToolsBin}).`);

  // Offline, the public vulnerability DBs cannot be downloaded: scan with the project's own, and say so.
  const dbInputs: { repo: Record<string, string>; layout: Record<string, string> } = { repo: {}, layout: {} };
  if (tools && !online) {
    const trivyDb = await pushTrivyDbArtifact(registry, 'demo/trivy-db');
    const osvDb = offlineOsvDb(tempDir('golden-image-demo-osv-'));
    console.log(
      `Offline: Trivy uses the project's DB (test/fixtures/advisories/trivy) served from ${trivyDb}; OSV-Scanner the project's records (test/fixtures/advisories/osv). Findings are only those advisories.`,
    );
    dbInputs.layout = { 'db-repository': trivyDb, 'cache-db': 'false' };
    dbInputs.repo = { ...dbInputs.layout, 'osv-offline-db': osvDb.dir };
  }

  if (tools) {
    await step(
      'scan-repo',
      { path: join(repoRoot, 'test/fixtures/sample-image'), sbom: 'true', ...toolInputs, ...dbInputs.repo },
      toolEnv,
    );
  } else {
    skip('scan-repo', `OSV-Scanner, Trivy and Syft: ${noTools}.`);
  }

  let layoutPath: string;
  let digest: string;
  if (commandExists('buildah')) {
    // SOURCE_DATE_EPOCH makes the build reproducible: every run of the demo builds the same digest.
    const build = await step(
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
    layoutPath = build.outputs['layout-path'] ?? '';
    digest = build.outputs.digest ?? '';
  } else {
    skip(
      'build-oci',
      'buildah is not installed here (and docker buildx does not run on this machine); using a generated layout.',
    );
    layoutPath = join(tempDir('golden-image-demo-'), 'layout');
    const generated = await buildLayout(layoutPath, {
      platforms: ['linux/amd64', 'linux/arm64'],
      layerSizes: [256 * 1024],
      seed: 'demo',
    });
    console.log(`  generated a deterministic two-platform layout with provenance attestations at ${layoutPath}`);
    digest = generated.digest;
  }

  let report = '';
  if (tools) {
    const scanned = await step(
      'scan-layout',
      { 'layout-path': layoutPath, digest, ...toolInputs, ...dbInputs.layout },
      toolEnv,
    );
    report = scanned.outputs.report ?? '';
  } else {
    skip('scan-layout', `Trivy: ${noTools}.`);
  }

  const pushed = await step('push-layout', {
    'layout-path': layoutPath,
    digest,
    image,
    tags: 'sha-0d3m0',
    'tls-verify': 'false',
  });

  let signature: Record<string, string> = { 'require-signature': 'false' };
  if (tools) {
    // No OIDC here: sign with a throwaway key pair made by the same cosign.
    const keyDir = tempDir('golden-image-demo-key-');
    const password = 'demo-throwaway';
    const cosign = online ? await downloadCosign(toolEnv) : join(realToolsBin, 'cosign');
    execFileSync(cosign, ['generate-key-pair'], {
      cwd: keyDir,
      env: { ...process.env, COSIGN_PASSWORD: password },
      stdio: 'ignore',
    });
    console.log(`\nNo GitHub OIDC here: signing with a key pair generated for this run (${keyDir}).`);
    // Offline there is no Rekor to log the signature in: a private-instance setting, said by the step.
    const tlog: Record<string, string> = online ? {} : { 'transparency-log': 'false' };
    const signer = { key: join(keyDir, 'cosign.key'), 'tls-verify': 'false', ...tlog, ...toolInputs };
    const signed = await step(
      'sign-digest',
      { image, digest: pushed.outputs.digest ?? '', ...signer },
      { ...toolEnv, COSIGN_PASSWORD: password },
    );
    console.log(`\n${bold('verify it yourself')}:\n${signed.outputs['verify-command'] ?? ''}`);
    await step(
      'attest-evidence',
      { image, digest: signed.outputs.digest ?? '', 'layout-path': layoutPath, report, ...signer },
      { ...toolEnv, COSIGN_PASSWORD: password },
    );
    signature = {
      'require-signature': 'true',
      'require-attestations': 'sbom,vuln',
      key: join(keyDir, 'cosign.pub'),
      ...tlog,
      ...toolInputs,
    };
  } else {
    skip(
      'sign-digest and attest-evidence',
      `cosign: ${noTools}; promotion below runs with require-signature: false and says so.`,
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
