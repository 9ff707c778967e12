// npm run demo:npm: the npm chain on a sample package against a local registry (Verdaccio): pack-npm, scan-npm,
// publish-npm, then the read-back and a consumer install. Through the bundled actions when dist/ has them (as the
// runner runs them), else in-process. Scanners that cannot run here are skipped with the reason; nothing is faked.
import './own-tmpdir.ts';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import { packDirectory, publishTarball, registryUrl } from '@golden-image/npm';
import {
  createTestContext,
  offlineOsvDb,
  pushTrivyDbArtifact,
  RecordingRunner,
  realToolsBin,
  repoRoot,
  runBundledAction,
  type StepResult,
  startRegistry,
  startVerdaccio,
  tempDir,
} from '@golden-image/testkit';
import { main as packMain } from '../actions/pack-npm/main.js';
import { main as publishMain } from '../actions/publish-npm/main.js';
import { main as scanMain } from '../actions/scan-npm/main.js';

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const mains: Record<string, (ctx: ActionContext) => Promise<void>> = {
  'pack-npm': packMain,
  'scan-npm': scanMain,
  'publish-npm': publishMain,
};
const bundled = Object.keys(mains).every((name) => existsSync(join(repoRoot, 'dist', name, 'index.js')));

/** One action, printed like a workflow step; its duration is measured around the whole step. */
async function step(action: string, inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  console.log(`\n${bold(`▶ ${action}`)}${bundled ? '' : ' (in-process: dist/ has no bundle yet)'}`);
  for (const [name, value] of Object.entries(inputs)) {
    console.log(`    with ${name}: ${name === 'token' ? '***' : value.replaceAll('\n', '\\n')}`);
  }
  const started = performance.now();
  let result: StepResult;
  if (bundled) {
    result = await runBundledAction(action, inputs, { env: { ...env, GITHUB_WORKSPACE: repoRoot } });
  } else {
    const { ctx, recorded } = createTestContext(inputs, {
      runner: new RecordingRunner(),
      env: { ...process.env, ...env, GITHUB_WORKSPACE: repoRoot },
    });
    const exitCode = await (mains[action] as (ctx: ActionContext) => Promise<void>)(ctx).then(
      () => 0,
      (error: Error) => {
        recorded.errors.push(error.message);
        return 1;
      },
    );
    result = {
      exitCode,
      outputs: recorded.outputs,
      summary: recorded.summary,
      log: [...recorded.logs, ...recorded.warnings, ...recorded.errors].join('\n'),
    };
  }
  const ms = Math.round(performance.now() - started);
  const log = result.log.trim();
  if (log) console.log(log.replace(/^/gm, '    │ '));
  console.log(`  exit code ${result.exitCode} (${ms} ms)`);
  for (const [name, value] of Object.entries(result.outputs)) console.log(`  output ${name} = ${value}`);
  if (result.summary.trim()) console.log(`  job summary:\n${result.summary.trim().replace(/^/gm, '    ')}`);
  if (result.exitCode !== 0) throw new Error(`${action} failed; the chain stops here, as it would on a runner.`);
  return { ...result, ms };
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

const registry = await startVerdaccio();
console.log(
  `Local npm registry: Verdaccio 6.8.0 on ${registry.url} (storage ${registry.storage}, htpasswd auth, no uplinks)`,
);
const oci = await startRegistry();
try {
  // The sample depends on golden-fixture-simple; put it in the registry, as any dependency would already be.
  const seed = createTestContext({}, { runner: new RecordingRunner() }).ctx;
  const simple = await packDirectory(seed, { dir: join(repoRoot, 'test/fixtures/npm/simple'), scripts: false });
  await publishTarball(seed, {
    tarballPath: simple.tarballPath,
    integrity: simple.integrity,
    registry: registryUrl(registry.url),
    tag: 'latest',
    provenance: 'false',
    token: registry.token,
  });
  console.log(`Seeded the registry with golden-fixture-simple@1.0.0, the sample's dependency.`);

  const sample = join(tempDir('golden-image-demo-npm-'), 'scoped');
  cpSync(join(repoRoot, 'test/fixtures/npm/scoped'), sample, { recursive: true });
  const packed = await step('pack-npm', { path: sample });
  const tarball = packed.outputs['tarball-path'] ?? '';
  const integrity = packed.outputs.integrity ?? '';

  const online = await reachable('https://github.com');
  const built = ['trivy', 'osv-scanner', 'syft'].every((bin) => existsSync(join(realToolsBin, bin)));
  let scanned = integrity;
  if (online || built) {
    const env: NodeJS.ProcessEnv = online
      ? { RUNNER_TOOL_CACHE: join(repoRoot, '.tmp', 'tool-cache') }
      : { PATH: `${realToolsBin}:${process.env.PATH ?? ''}` };
    const inputs: Record<string, string> = { 'tarball-path': tarball, integrity, registry: registry.url };
    if (!online) {
      // Offline, the public vulnerability DBs cannot be downloaded: scan with the project's own, and say so.
      const trivyDb = await pushTrivyDbArtifact(oci, 'demo/trivy-db');
      const osvDb = offlineOsvDb(tempDir('golden-image-demo-osv-'), { ecosystems: ['npm'] });
      console.log(
        `\ngithub.com is unreachable: the real OSV-Scanner, Trivy and Syft built by npm run tools:real (${realToolsBin}), ` +
          "with the project's advisories only (test/fixtures/advisories): Trivy's DB from " +
          `${trivyDb}, OSV-Scanner's from ${osvDb.dir}.`,
      );
      Object.assign(inputs, {
        'install-tools': 'false',
        'db-repository': trivyDb,
        'cache-db': 'false',
        'osv-offline-db': osvDb.dir,
      });
    }
    scanned = (await step('scan-npm', inputs, env)).outputs.integrity ?? '';
  } else {
    console.log(
      `\n${bold('▷ scan-npm: skipped')}: OSV-Scanner, Trivy and Syft cannot be downloaded (github.com is unreachable) ` +
        'and are not built here (npm run tools:real builds them). The tarball goes on unscanned in this demo only.',
    );
  }

  const published = await step('publish-npm', {
    'tarball-path': tarball,
    integrity: scanned,
    registry: registry.url,
    tag: 'latest',
    access: 'public',
    provenance: 'auto',
    token: registry.token,
  });
  const again = await step('publish-npm', {
    'tarball-path': tarball,
    integrity: scanned,
    registry: registry.url,
    tag: 'latest',
    access: 'public',
    token: registry.token,
  });

  const name = published.outputs.name ?? '';
  const version = published.outputs.version ?? '';
  const doc = (await (await fetch(new URL(name.replace('/', '%2f'), registry.url))).json()) as {
    'dist-tags': Record<string, string>;
    versions: Record<string, { dist: { integrity: string; shasum: string; tarball: string } }>;
  };
  console.log(`\n${bold('▶ read back')} ${name}@${version} from ${registry.url}`);
  console.log(`  dist-tags: ${JSON.stringify(doc['dist-tags'])}`);
  console.log(`  dist: ${JSON.stringify(doc.versions[version]?.dist)}`);
  console.log(`  packed integrity:    ${integrity}`);
  console.log(`  served integrity:    ${doc.versions[version]?.dist.integrity}`);

  // A consumer installs it: the lockfile npm writes records the same integrity.
  const consumer = tempDir('golden-image-demo-consumer-');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  writeFileSync(join(consumer, '.npmrc'), `registry=${registry.url}\n`);
  execFileSync('npm', ['install', `${name}@${version}`, '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: consumer,
    stdio: 'ignore',
    env: { ...process.env, npm_config_userconfig: join(consumer, '.npmrc'), npm_config_cache: join(consumer, '.npm') },
  });
  const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8'));
  console.log(`  a consumer's lockfile: ${lock.packages[`node_modules/${name}`].integrity}`);

  console.log(`\n${bold('figures')} (this machine, one run; docs/npm.md has medians)`);
  console.log(`  pack-npm: ${packed.ms} ms`);
  console.log(`  publish-npm (publish + read-back): ${published.ms} ms; re-run (nothing to publish): ${again.ms} ms`);
  console.log(`\n${bold('✔ npm chain complete')}: ${name}@${version} ${integrity}`);
} finally {
  await registry.stop();
  await oci.stop();
}
