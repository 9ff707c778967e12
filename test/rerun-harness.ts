// Runs the bundled root action (dist/chain) the way a runner does, as one commit of one repository: real buildah,
// real skopeo, a real registry; the scanners and cosign are the doubles (install-tools: false).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Skopeo } from '@golden-image/oci-registry';
import {
  doubleTrivyDbFiles,
  pushTrivyDbFiles,
  RecordingRunner,
  repoRoot,
  runBundledAction,
  type StepResult,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { DOUBLES_BIN } from './doubles/lib/harness.js';
import { recording } from './doubles/recordings.js';

export const SAMPLE = 'test/fixtures/sample-image';

/** A commit of `my-org/app`: `seed` (hex) repeated to 40 characters. */
export function commit(seed: string): string {
  return seed.repeat(40).slice(0, 40);
}

/** The Trivy DB every run scans with (the double's, pulled by digest): set by serveDoubleDb in a test's beforeAll. */
let dbRepository = '';

/** Pushes the trivy double's DB to `registry`; every rootAction after this pulls it from there (db-repository). */
export async function serveDoubleDb(registry: TestRegistry): Promise<void> {
  dbRepository = (await pushTrivyDbFiles(registry, 'mirror/trivy-db', doubleTrivyDbFiles())).ref;
}

export interface Key {
  key: string;
  password: string;
}

/** A cosign (double) key pair. */
export function keyPair(password = 'rerun-key-password'): Key {
  const dir = tempDir('golden-image-rerun-key-');
  execFileSync(join(DOUBLES_BIN, 'cosign'), ['generate-key-pair'], {
    cwd: dir,
    env: { ...process.env, COSIGN_PASSWORD: password, COSIGN_DOUBLE_LOG: '' },
    stdio: 'ignore',
  });
  return { key: join(dir, 'cosign.key'), password };
}

export interface RunOptions {
  sha: string;
  /** SOURCE_DATE_EPOCH: buildah's builds are reproducible, so another epoch is another digest (a nightly's). */
  epoch?: number;
  event?: string;
  attempt?: number;
  cosignPassword?: string;
  /** Where the cosign double keeps signatures: shared by every run of one test, as a registry would be. */
  state: string;
  env?: NodeJS.ProcessEnv;
}

/** One run of the bundled root action. */
export async function rootAction(inputs: Record<string, string>, key: Key, options: RunOptions): Promise<StepResult> {
  const dir = tempDir('golden-image-rerun-');
  const base = { ...process.env };
  for (const name of ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_RUNTIME_TOKEN'])
    delete base[name];
  return runBundledAction(
    '.',
    {
      context: SAMPLE,
      builder: 'buildah',
      'scan-repo': 'false',
      provenance: 'false',
      sbom: 'false',
      key: key.key,
      'tls-verify': 'false',
      'install-tools': 'false',
      ...(dbRepository ? { 'db-repository': dbRepository } : {}),
      ...inputs,
    },
    {
      env: {
        ...base,
        PATH: `${DOUBLES_BIN}:${base.PATH ?? ''}`,
        GITHUB_WORKSPACE: repoRoot,
        GITHUB_SHA: options.sha,
        GITHUB_REPOSITORY: 'my-org/app',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_EVENT_NAME: options.event ?? 'push',
        GITHUB_RUN_ATTEMPT: String(options.attempt ?? 1),
        SOURCE_DATE_EPOCH: String(options.epoch ?? 0),
        COSIGN_PASSWORD: options.cosignPassword ?? key.password,
        COSIGN_DOUBLE_STATE: options.state,
        COSIGN_DOUBLE_LOG: join(dir, 'cosign.log'),
        DOUBLE_LOG: join(dir, 'doubles.log'),
        TRIVY_DOUBLE_FIXTURE: recording('trivy', 'alpine-amd64-clean'),
        OSV_DOUBLE_FIXTURE: recording('osv-scanner', 'npm-clean'),
        SYFT_DOUBLE_FIXTURE: recording('syft', 'alpine-amd64'),
        ...options.env,
      },
    },
  );
}

/** What a reference resolves to in the registry now, read with skopeo on its own (undefined: nothing). */
export function digestOf(ref: string, authFile?: string): Promise<string | undefined> {
  return new Skopeo(new RecordingRunner(), { tlsVerify: false, authFile }).digestOf(ref);
}

/** The top-level annotations of what REF resolves to. */
export async function annotationsOf(ref: string): Promise<Record<string, string>> {
  const raw = await new Skopeo(new RecordingRunner(), { tlsVerify: false }).rawManifest(ref);
  return (JSON.parse(raw?.toString() ?? '{}') as { annotations?: Record<string, string> }).annotations ?? {};
}

export const today = () => new Date().toISOString().slice(0, 10).replaceAll('-', '');
