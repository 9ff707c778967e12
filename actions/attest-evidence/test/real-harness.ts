// The real tier of attest-evidence: the chain's own actions (scan-layout with the real Trivy and the project's
// offline DB pulled by digest from the test registry, push-layout with skopeo, sign-digest with the real cosign), then attest-evidence with the real Syft
// and cosign, all in one runner temp directory as in one job.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  type BuiltLayout,
  createTestContext,
  pathDirFor,
  pushTrivyDbArtifact,
  RecordingRunner,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { main as pushLayout } from '../../push-layout/main.js';
import { main as scanLayout } from '../../scan-layout/main.js';
import { main as signDigest } from '../../sign-digest/main.js';
import { cleanEnv, type RealCosign } from '../../sign-digest/test/real-harness.js';
import { type AttestEvidenceDeps, main as attestEvidence } from '../main.js';

export interface Job {
  env: NodeJS.ProcessEnv;
  runnerTemp: string;
}

/** One job: a clean environment whose PATH holds the real cosign, syft and trivy, and a fresh RUNNER_TEMP. */
export function job(cosign: RealCosign, tools: { syft: string; trivy: string }, extra: NodeJS.ProcessEnv = {}): Job {
  const bin = pathDirFor({ syft: tools.syft, trivy: tools.trivy });
  const base = cleanEnv(cosign, extra);
  const env: NodeJS.ProcessEnv = { ...base, PATH: `${bin}:${base.PATH ?? ''}` };
  const runnerTemp = env.RUNNER_TEMP as string;
  mkdirSync(runnerTemp, { recursive: true });
  return { env, runnerTemp };
}

/** Runs an action's main in the job, with process PATH set as the job's (ensureTool looks there). */
export async function runIn<D>(
  j: Job,
  main: (ctx: ReturnType<typeof createTestContext>['ctx'], deps?: D) => Promise<void>,
  inputs: Record<string, string>,
  deps?: D,
) {
  const { ctx, recorded } = createTestContext(inputs, {
    env: j.env,
    tempDir: j.runnerTemp,
    runner: new RecordingRunner(),
  });
  const saved = process.env.PATH;
  process.env.PATH = j.env.PATH;
  let error: Error | undefined;
  try {
    await main(ctx, deps);
  } catch (caught) {
    error = caught as Error;
  } finally {
    process.env.PATH = saved;
  }
  return { recorded, error };
}

export interface Released {
  image: string;
  digest: string;
  platforms: Record<string, string>;
  report: string;
  layout: BuiltLayout;
  policy: string;
  /** The Trivy DB scan-layout used: its db-digest and db-ref outputs. */
  db: { digest: string; ref: string };
}

/** The project's Trivy DB in `registry` (pushed once per registry): the db-repository scan-layout pulls. */
const mirrors = new WeakMap<TestRegistry, Promise<string>>();
export function projectDbMirror(registry: TestRegistry): Promise<string> {
  let mirror = mirrors.get(registry);
  if (!mirror) {
    mirror = pushTrivyDbArtifact(registry, 'mirror/trivy-db');
    mirrors.set(registry, mirror);
  }
  return mirror;
}

/**
 * scan-layout (offline DB, fail-on-findings false so a vulnerable image can be released for the refusal cases),
 * push-layout, sign-digest with a key: what attest-evidence receives in a real job.
 */
export async function releaseUnattested(
  j: Job,
  registry: TestRegistry,
  layout: BuiltLayout,
  repository: string,
  signing: Record<string, string>,
): Promise<Released> {
  const scan = await runIn(j, scanLayout, {
    'layout-path': layout.path,
    digest: layout.digest,
    'install-tools': 'false',
    'db-repository': await projectDbMirror(registry),
    'cache-db': 'false',
    'fail-on-findings': 'false',
  });
  if (scan.error) throw scan.error;
  const image = `${registry.host}/${repository}`;
  const push = await runIn(j, pushLayout, {
    'layout-path': layout.path,
    digest: layout.digest,
    image,
    tags: `sha-${repository.replace(/\W/g, '')}`,
    'tls-verify': 'false',
    'tag-race-window-ms': '0',
  });
  if (push.error) throw push.error;
  const signed = await runIn(j, signDigest, {
    image,
    digest: layout.digest,
    'install-tools': 'false',
    'tls-verify': 'false',
    'transparency-log': 'false',
    ...signing,
  });
  if (signed.error) throw signed.error;
  return {
    image,
    digest: layout.digest,
    platforms: layout.platforms,
    report: scan.recorded.outputs.report as string,
    layout,
    policy: signed.recorded.outputs['kyverno-policy'] as string,
    db: { digest: scan.recorded.outputs['db-digest'] as string, ref: scan.recorded.outputs['db-ref'] as string },
  };
}

export function attest(j: Job, inputs: Record<string, string>, deps: AttestEvidenceDeps = {}) {
  return runIn(
    j,
    attestEvidence,
    {
      'install-tools': 'false',
      'tls-verify': 'false',
      'transparency-log': 'false',
      'cache-db': 'false',
      ...inputs,
    },
    deps,
  );
}

/** The in-toto statements `cosign verify-attestation` prints for one digest and type, run as a person would. */
export function verifyByHand(cosign: RealCosign, args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(cosign.bin, ['verify-attestation', ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  const statements = (result.stdout ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(Buffer.from(JSON.parse(line).payload, 'base64').toString('utf8')));
  return { status: result.status, stderr: result.stderr, statements };
}

export { tempDir };

/** The digest REF resolves to (sha256 of the manifest skopeo reads), or undefined when there is none. */
export function digestOf(ref: string): string | undefined {
  const result = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  if (result.status !== 0) return undefined;
  return `sha256:${createHash('sha256').update(result.stdout).digest('hex')}`;
}
