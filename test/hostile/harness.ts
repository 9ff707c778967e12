// Shared set-up for the hostile-input and secrets suites: the seven actions' mains, a real registry, the tool doubles,
// a marker directory that any executed payload would write into, and "nothing happened" probes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import {
  createTestContext,
  doubleTrivyDbFiles,
  pushTrivyDbFiles,
  type Recorded,
  RecordingRunner,
  repoRoot,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import * as buildOci from '../../actions/build-oci/main.js';
import * as chain from '../../actions/chain/main.js';
import * as promoteTags from '../../actions/promote-tags/main.js';
import * as pushLayout from '../../actions/push-layout/main.js';
import * as scanLayout from '../../actions/scan-layout/main.js';
import * as scanRepo from '../../actions/scan-repo/main.js';
import * as signDigest from '../../actions/sign-digest/main.js';
import { DOUBLES_BIN } from '../doubles/lib/harness.js';
import { recording } from '../doubles/recordings.js';

export type ActionName =
  | 'scan-repo'
  | 'build-oci'
  | 'scan-layout'
  | 'push-layout'
  | 'sign-digest'
  | 'promote-tags'
  | 'chain';

export const MAINS: Record<ActionName, (ctx: ActionContext) => Promise<void>> = {
  'scan-repo': (ctx) => scanRepo.main(ctx),
  'build-oci': (ctx) => buildOci.main(ctx),
  'scan-layout': (ctx) => scanLayout.main(ctx),
  'push-layout': (ctx) => pushLayout.main(ctx),
  'sign-digest': (ctx) => signDigest.main(ctx),
  'promote-tags': (ctx) => promoteTags.main(ctx),
  chain: (ctx) => chain.main(ctx),
};

export const SAMPLE_IMAGE = join(repoRoot, 'test', 'fixtures', 'sample-image');

/** A directory that stays empty unless a payload was executed by a shell. */
export function markerDir(): { dir: string; payloads: (tag: string) => string[]; touched: () => string[] } {
  const dir = tempDir('golden-image-hostile-marker-');
  return {
    dir,
    // The classic shell injections, each of which would create a file named after `tag` in dir if run by a shell.
    payloads: (tag) => [
      `$(touch ${join(dir, `${tag}-subst`)})`,
      `\`touch ${join(dir, `${tag}-backtick`)}\``,
      `x;touch\${IFS}${join(dir, `${tag}-semi`)}`,
      `x|touch\${IFS}${join(dir, `${tag}-pipe`)}`,
      `x&&touch\${IFS}${join(dir, `${tag}-and`)}`,
      `$(touch\${IFS}${join(dir, `${tag}-ifs`)})`,
    ],
    touched: () => readdirSync(dir),
  };
}

/** Env for every run: the doubles first on PATH, their logs and fixtures in `dir`, no OIDC and no cosign password. */
export function doublesEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const {
    ACTIONS_ID_TOKEN_REQUEST_URL: _u,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: _t,
    ACTIONS_RUNTIME_TOKEN: _r,
    COSIGN_PASSWORD: _p,
    COSIGN_REPOSITORY: _c,
    ...base
  } = process.env;
  return {
    ...base,
    PATH: `${DOUBLES_BIN}:${base.PATH ?? ''}`,
    GITHUB_WORKSPACE: SAMPLE_IMAGE,
    DOUBLE_LOG: join(dir, 'doubles.log'),
    DOCKER_DOUBLE_LOG: join(dir, 'docker.log'),
    COSIGN_DOUBLE_LOG: join(dir, 'cosign.log'),
    COSIGN_DOUBLE_STATE: join(dir, 'cosign-state'),
    TRIVY_DOUBLE_FIXTURE: recording('trivy', 'alpine-amd64-clean'),
    OSV_DOUBLE_FIXTURE: recording('osv-scanner', 'npm-clean'),
    SYFT_DOUBLE_FIXTURE: recording('syft', 'alpine-amd64'),
    ...extra,
  };
}

/** The trivy double's DB pushed to `registry` as Trivy's artifact: the db-repository the scans pull by digest. */
export async function doubleDbRepository(registry: TestRegistry): Promise<string> {
  return (await pushTrivyDbFiles(registry, 'mirror/trivy-db', doubleTrivyDbFiles())).ref;
}

/** A cosign (double) key pair encrypted with `password`, in a fresh directory. */
export function cosignKeyPair(env: NodeJS.ProcessEnv, password: string): { key: string; pub: string } {
  const dir = tempDir('golden-image-hostile-key-');
  execFileSync(join(DOUBLES_BIN, 'cosign'), ['generate-key-pair'], {
    cwd: dir,
    env: { ...env, COSIGN_DOUBLE_LOG: '', COSIGN_PASSWORD: password },
    stdio: 'ignore',
  });
  return { key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
}

export interface Run {
  error?: Error;
  recorded: Recorded;
  runner: RecordingRunner;
  /** Secrets registered and tools run, in order: `secret:<value>` / `run:<tool> <args…>`. */
  timeline: string[];
  ms: number;
}

/** Runs one action's main in-process with a recording context and a recording runner. */
export async function runInProcess(action: ActionName, inputs: Record<string, string>, env: NodeJS.ProcessEnv) {
  const timeline: string[] = [];
  const inner = new RecordingRunner();
  const runner = {
    calls: inner.calls,
    of: inner.of.bind(inner),
    run: (tool: string, args: readonly string[], options?: Parameters<RecordingRunner['run']>[2]) => {
      timeline.push(`run:${tool} ${args.join(' ')}`);
      return inner.run(tool, args, options);
    },
  } as unknown as RecordingRunner;
  const runnerTemp = tempDir('golden-image-hostile-runner-');
  const { ctx, recorded } = createTestContext(inputs, { runner, env, tempDir: runnerTemp });
  const secret = ctx.secret;
  ctx.secret = (value) => {
    timeline.push(`secret:${value}`);
    secret(value);
  };
  const started = Date.now();
  let error: Error | undefined;
  try {
    await MAINS[action](ctx);
  } catch (caught) {
    error = caught as Error;
  }
  return { error, recorded, runner, timeline, ms: Date.now() - started } satisfies Run;
}

/** Every encoding a leaked secret might take in a log. */
export function secretForms(secret: string, username?: string): string[] {
  const forms = [
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
  ];
  if (username) {
    forms.push(Buffer.from(`${username}:${secret}`).toString('base64'));
    forms.push(`${username}:${secret}`);
  }
  return [...new Set(forms)];
}

/** Makes `dir/name` a file of `bytes` without writing them (a sparse file: no disk used). */
export function sparseFile(dir: string, name: string, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(bytes), path]);
  return path;
}
