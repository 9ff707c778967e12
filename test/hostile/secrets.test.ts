// Secrets: registry passwords, cosign key passwords and OIDC tokens are registered as secrets before any use and
// never appear in logs, warnings, errors, summaries, outputs or thrown messages, on success and (above all) on the
// failure paths: a wrong password against a basic-auth registry, a registry that is down, a refused token request.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  everythingPrinted,
  freePort,
  parseOutputFile,
  runBundledAction,
  type StepResult,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { useDoublesOnPath } from '../doubles/lib/harness.js';
import { craftToken, directClaims, startTokenServer, type TokenServer } from '../fixtures/signing/oidc.js';
import {
  type ActionName,
  cosignKeyPair,
  doubleDbRepository,
  doublesEnv,
  type Run,
  runInProcess,
  SAMPLE_IMAGE,
  secretForms,
} from './harness.js';

const USER = 'ci';
// Characters that change under base64, URL and JSON encoding, so each encoded form differs from the raw one.
const PASSWORD = 'Hunter2:p@ss/w0rd+"x"=';
const KEY_PASSWORD = 'k3y-Pa55word/unlock';

let registry: TestRegistry;
let authRegistry: TestRegistry;
let downHost: string;
let layout: { path: string; digest: string };
let restorePath: () => void;
let env: NodeJS.ProcessEnv;
let keyPair: { key: string; pub: string };
/** The Trivy DB the chain's scan pulls (doubleDbRepository). */
let db: string;

beforeAll(async () => {
  restorePath = useDoublesOnPath();
  [registry, authRegistry] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { username: USER, password: PASSWORD } }),
  ]);
  downHost = `localhost:${await freePort()}`;
  const dir = tempDir('golden-image-secrets-layout-');
  layout = { path: dir, digest: (await buildLayout(dir, { platforms: ['linux/amd64'], attestations: false })).digest };
  env = doublesEnv(tempDir('golden-image-secrets-logs-'));
  keyPair = cosignKeyPair(env, KEY_PASSWORD);
  db = await doubleDbRepository(registry);
});
afterAll(async () => {
  restorePath?.();
  await Promise.all([registry?.stop(), authRegistry?.stop()]);
});

/** Names every encoded form of `secret` found in `text` (an empty list is the pass). */
function leaks(text: string, secret: string, username?: string): string[] {
  return secretForms(secret, username).filter((form) => text.includes(form));
}

/** Everything a failed or finished in-process run let out: printed lines, summary, outputs and the error. */
function exposed(run: Run): string {
  return [everythingPrinted(run.recorded), run.error?.message ?? '', run.error?.stack ?? ''].join('\n');
}

/** The secret was registered, and before the first tool ran that could use it (`use` matches the timeline entry). */
function registeredBeforeUse(run: Run, secret: string, use: RegExp = /^run:/): void {
  const registered = run.timeline.indexOf(`secret:${secret}`);
  expect(registered).toBeGreaterThanOrEqual(0);
  const firstUse = run.timeline.findIndex((entry) => use.test(entry));
  if (firstUse !== -1) expect(registered).toBeLessThan(firstUse);
}

/** skopeo runs against the image's registry (not the scans' pulls of the Trivy DB, which use no auth file). */
const REGISTRY_SKOPEO = /^run:skopeo (?!.*\/mirror\/trivy-db)/;

const pushInputs = (host: string, password = PASSWORD) => ({
  'layout-path': layout.path,
  digest: layout.digest,
  image: `${host}/secrets/app`,
  tags: 'sha-5ec2e75',
  'tls-verify': 'false',
  username: USER,
  password,
});

const promoteInputs = (host: string, password = PASSWORD) => ({
  image: `${host}/secrets/app`,
  digest: layout.digest,
  tags: 'latest',
  engine: 'skopeo',
  'require-signature': 'false',
  'tls-verify': 'false',
  username: USER,
  password,
});

const manifestWrites = (r: TestRegistry) => r.requests(/"PUT \/v2\/secrets\/app\/manifests\//).length;

describe('registry passwords (in-process: everything printed, outputs, summary and the thrown error)', () => {
  const rows: [string, ActionName, () => Record<string, string>, 'ok' | RegExp][] = [
    ['push-layout, right password', 'push-layout', () => pushInputs(authRegistry.host), 'ok'],
    [
      'push-layout, wrong password',
      'push-layout',
      () => pushInputs(authRegistry.host, `${PASSWORD}-wrong`),
      /401|unauthorized|authentication required/i,
    ],
    [
      'push-layout, registry down',
      'push-layout',
      () => pushInputs(downHost),
      /connection refused|dial tcp|pinging container registry/i,
    ],
    ['promote-tags, right password', 'promote-tags', () => promoteInputs(authRegistry.host), 'ok'],
    [
      'promote-tags, wrong password',
      'promote-tags',
      () => promoteInputs(authRegistry.host, `${PASSWORD}-wrong`),
      /401|unauthorized|authentication required|not in the registry/i,
    ],
    [
      'promote-tags, registry down',
      'promote-tags',
      () => promoteInputs(downHost),
      /connection refused|dial tcp|not in the registry|pinging/i,
    ],
    [
      'chain, a bad rolling tag (refused before anything runs)',
      'chain',
      () => ({
        ...pushInputs(authRegistry.host),
        context: SAMPLE_IMAGE,
        'rolling-tags': 'bad tag!',
        sign: 'false',
        'scan-repo': 'false',
        builder: 'buildah',
        'install-tools': 'false',
        'db-repository': db,
      }),
      /Input "rolling-tags": tag "bad tag!" is not valid/,
    ],
    [
      'chain, wrong password (built and scanned, then refused by the registry)',
      'chain',
      () => ({
        ...pushInputs(authRegistry.host, `${PASSWORD}-wrong`),
        context: SAMPLE_IMAGE,
        'rolling-tags': 'latest',
        sign: 'false',
        'scan-repo': 'false',
        builder: 'buildah',
        'install-tools': 'false',
        'db-repository': db,
      }),
      /401|unauthorized|authentication required/i,
    ],
  ];

  test.each(rows)('%s', async (_name, action, inputs, outcome) => {
    const given = inputs();
    const password = given.password ?? '';
    const writesBefore = manifestWrites(authRegistry);
    const run = await runInProcess(action, given, env);
    if (outcome === 'ok') expect(run.error).toBeUndefined();
    else {
      expect(run.error?.name).toBe('UserError');
      expect(run.error?.message).toMatch(outcome);
      // A failed run moved nothing.
      if (action !== 'chain') expect(manifestWrites(authRegistry)).toBe(writesBefore);
    }
    registeredBeforeUse(run, password);
    // The auth file's base64 `user:password` is a secret too (once made): it is what a registry error could echo.
    if (run.runner.calls.length > 0)
      registeredBeforeUse(run, Buffer.from(`${USER}:${password}`).toString('base64'), REGISTRY_SKOPEO);
    expect(leaks(exposed(run), password, USER)).toEqual([]);
    // Nor did any tool get it on its command line (where `ps` and a verbose log would show it).
    for (const call of run.runner.calls) expect(leaks(call.args.join(' '), password, USER)).toEqual([]);
  });
});

describe('cosign key password (sign-digest, key-based, with the cosign double)', () => {
  test.each([
    ['right password', KEY_PASSWORD, undefined],
    ['wrong password', 'not-the-key-password', /Exporting the public key failed.*decryption failed/s],
  ] as const)('%s', async (_name, password, failure) => {
    const run = await runInProcess(
      'sign-digest',
      {
        image: `${registry.host}/secrets/app`,
        digest: layout.digest,
        key: keyPair.key,
        'install-tools': 'false',
        'tls-verify': 'false',
      },
      { ...env, COSIGN_PASSWORD: password },
    );
    if (failure) expect(run.error?.message).toMatch(failure);
    else expect(run.error).toBeUndefined();
    registeredBeforeUse(run, password, /^run:cosign/);
    expect(leaks(exposed(run), password)).toEqual([]);
    for (const call of run.runner.calls) expect(leaks(call.args.join(' '), password)).toEqual([]);
  });
});

describe('OIDC token (sign-digest keyless, crafted-token server)', () => {
  let server: TokenServer;
  beforeAll(async () => {
    server = await startTokenServer(directClaims());
  });
  afterAll(async () => server?.close());
  const token = () => craftToken(directClaims('sigstore'));
  const signInputs = () => ({
    image: `${registry.host}/secrets/app`,
    digest: layout.digest,
    'install-tools': 'false',
    'tls-verify': 'false',
  });

  test('the token is registered before cosign signs; neither it nor the request bearer is printed', async () => {
    const run = await runInProcess('sign-digest', signInputs(), { ...env, ...server.env });
    expect(run.error).toBeUndefined();
    expect(server.requests).toContain('sigstore');
    registeredBeforeUse(run, token(), /^run:cosign sign/);
    expect(leaks(exposed(run), token())).toEqual([]);
    // The signature segment alone would identify the token too.
    expect(exposed(run)).not.toContain(token().split('.')[2]);
    expect(leaks(exposed(run), server.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)).toEqual([]);
  });

  test('a refused token request: the error names the failure, not the bearer', async () => {
    const bearer = 'wrong-bearer-S3CRET-value';
    const run = await runInProcess('sign-digest', signInputs(), {
      ...env,
      ...server.env,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: bearer,
    });
    expect(run.error?.message).toMatch(/OIDC token failed \(HTTP 401\)/);
    expect(leaks(exposed(run), bearer)).toEqual([]);
    expect(run.runner.calls.filter((call) => call.args[0] === 'sign')).toEqual([]);
  });
});

describe('the whole chain with a registry password and a cosign key password', () => {
  test('built, scanned, pushed, signed, promoted: both secrets registered before their first use, neither printed', async () => {
    const run = await runInProcess(
      'chain',
      {
        ...pushInputs(authRegistry.host),
        image: `${authRegistry.host}/secrets/chain`,
        context: SAMPLE_IMAGE,
        'rolling-tags': 'latest',
        key: keyPair.key,
        'scan-repo': 'false',
        builder: 'buildah',
        'install-tools': 'false',
        'db-repository': db,
      },
      { ...env, COSIGN_PASSWORD: KEY_PASSWORD },
    );
    expect(run.error).toBeUndefined();
    expect(run.recorded.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    registeredBeforeUse(run, PASSWORD);
    registeredBeforeUse(run, Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), REGISTRY_SKOPEO);
    registeredBeforeUse(run, KEY_PASSWORD, /^run:cosign/);
    expect(run.runner.calls.some((call) => call.args[0] === 'sign')).toBe(true);
    expect(leaks(exposed(run), PASSWORD, USER)).toEqual([]);
    expect(leaks(exposed(run), KEY_PASSWORD)).toEqual([]);
    for (const call of run.runner.calls) {
      expect(leaks(call.args.join(' '), PASSWORD, USER)).toEqual([]);
      expect(leaks(call.args.join(' '), KEY_PASSWORD)).toEqual([]);
    }
  });
});

describe('an OIDC token our code refuses after fetching it', () => {
  test('no job_workflow_ref claim: the error explains, and carries no part of the token', async () => {
    const claims = { ...directClaims(), job_workflow_ref: undefined };
    const server = await startTokenServer(claims);
    try {
      const run = await runInProcess(
        'sign-digest',
        {
          image: `${registry.host}/secrets/app`,
          digest: layout.digest,
          'install-tools': 'false',
          'tls-verify': 'false',
        },
        { ...env, ...server.env },
      );
      expect(run.error?.message).toMatch(/has no usable job_workflow_ref claim/);
      const token = craftToken({ ...claims, aud: 'sigstore' });
      registeredBeforeUse(run, token, /^run:cosign sign/);
      expect(leaks(exposed(run), token)).toEqual([]);
      for (const part of token.split('.')) expect(exposed(run)).not.toContain(part);
      expect(run.runner.calls.filter((call) => call.args[0] === 'sign')).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('credentials inside a tool-mirror URL', () => {
  // Regression test for a fixed bug (packages/tools/src/request.ts mirrorProblem +
  // packages/tools/src/install.ts ensureTool): a tool-mirror such as https://user:token@mirror.example.com is
  // accepted, and the full URL, token included, is printed in "Downloading … from <url>" and in the download
  // error; nothing registers it as a secret. Fixed by: refuse userinfo in mirrorProblem ("must not carry
  // credentials: …"), or ctx.secret() the password part and print the URL with it replaced by ***.
  test('the mirror password is refused or masked, and never printed', async () => {
    const { createServer } = await import('node:http');
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(404).end('not here');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const secret = 'M1rr0r-T0ken/value';
    const saved = process.env.RUNNER_TOOL_CACHE;
    process.env.RUNNER_TOOL_CACHE = tempDir('golden-image-secrets-toolcache-');
    try {
      const run = await runInProcess(
        'scan-layout',
        {
          'layout-path': layout.path,
          digest: layout.digest,
          'tool-mirror': `http://mirror-user:${encodeURIComponent(secret)}@127.0.0.1:${port}`,
        },
        env,
      );
      expect(run.error).toBeDefined();
      expect(leaks(exposed(run), secret)).toEqual([]);
    } finally {
      process.env.RUNNER_TOOL_CACHE = saved;
      if (saved === undefined) delete process.env.RUNNER_TOOL_CACHE;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** The runner's log minus the `::add-mask::` commands, which carry secrets to the runner on purpose. */
function logWithoutMasks(step: StepResult): string {
  return step.log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

function everythingTheRunnerSaw(step: StepResult, files: { output: string; summary: string }): string {
  return [
    logWithoutMasks(step),
    readFileSync(files.output, 'utf8'),
    readFileSync(files.summary, 'utf8'),
    JSON.stringify(step.outputs),
  ].join('\n');
}

/**
 * `::add-mask::<secret>` came before the first line matching `before`: by default the first group, i.e. before the
 * action did anything; for the auth file's base64, before the first group that talks to the registry.
 */
function maskedFirst(step: StepResult, secret: string, before: RegExp = /^::group::/): void {
  const lines = step.log.split('\n');
  const mask = lines.indexOf(`::add-mask::${secret}`);
  expect(mask).toBeGreaterThanOrEqual(0);
  const firstGroup = lines.findIndex((line) => before.test(line));
  if (firstGroup !== -1) expect(mask).toBeLessThan(firstGroup);
}

/** Runs a bundled action with its own RUNNER_TEMP, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY we can read after. */
async function bundled(action: string, inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}) {
  const dir = tempDir(`golden-image-secrets-${action}-`);
  const files = { output: join(dir, 'output'), summary: join(dir, 'summary'), temp: join(dir, 'temp') };
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  mkdirSync(files.temp);
  const step = await runBundledAction(action, inputs, {
    env: { ...env, ...extra, GITHUB_OUTPUT: files.output, GITHUB_STEP_SUMMARY: files.summary, RUNNER_TEMP: files.temp },
  });
  // runBundledAction parses its own GITHUB_OUTPUT; ours (overridden above) is the one the action wrote.
  step.outputs = parseOutputFile(readFileSync(files.output, 'utf8'));
  return { step, files };
}

/** Every file under dir whose bytes contain one of the forms. */
function filesHolding(dir: string, forms: string[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const text = readFileSync(path, 'utf8');
    if (forms.some((form) => text.includes(form))) found.push(name);
  }
  return found;
}

describe('bundled, as the runner runs them: the full log, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY', () => {
  test.each([
    ['push-layout', 'wrong password', () => pushInputs(authRegistry.host, `${PASSWORD}-bad`)],
    ['push-layout', 'registry down', () => pushInputs(downHost)],
    ['promote-tags', 'wrong password', () => promoteInputs(authRegistry.host, `${PASSWORD}-bad`)],
    [
      'chain',
      'wrong password',
      () => ({
        ...pushInputs(authRegistry.host, `${PASSWORD}-bad`),
        context: SAMPLE_IMAGE,
        'rolling-tags': 'latest',
        sign: 'false',
        'scan-repo': 'false',
        builder: 'buildah',
        'install-tools': 'false',
        'db-repository': db,
      }),
    ],
  ] as const)('%s, %s: fails, and the password is only ever in ::add-mask::', async (action, _why, inputs) => {
    const given = inputs();
    const { step, files } = await bundled(action, given);
    expect(step.exitCode).toBe(1);
    expect(step.log).toMatch(/::error::/);
    maskedFirst(step, given.password);
    maskedFirst(step, Buffer.from(`${USER}:${given.password}`).toString('base64'), /^::group::(Check|Push|Move)/);
    expect(leaks(everythingTheRunnerSaw(step, files), given.password, USER)).toEqual([]);
    // Nothing was released: the only outputs are the scans' SARIF and report paths and the DB the image was scanned
    // with, which the root action writes even when a later step fails (so a code-scanning upload can still run).
    const scanOutputs = /-sarif$|-report$|^db-(digest|ref)$/;
    expect(Object.keys(step.outputs).filter((name) => !scanOutputs.test(name))).toEqual([]);
  });

  test('push-layout with the right password: succeeds; outputs and summary carry no secret', async () => {
    const { step, files } = await bundled('push-layout', { ...pushInputs(authRegistry.host), tags: 'sha-b0nd1ed' });
    expect(step.exitCode).toBe(0);
    maskedFirst(step, PASSWORD);
    expect(Object.keys(step.outputs).sort()).toEqual(['digest', 'image-ref', 'platforms', 'tags']);
    expect(leaks(everythingTheRunnerSaw(step, files), PASSWORD, USER)).toEqual([]);
  });

  // Regression test for a fixed bug (packages/oci-registry/src/auth.ts authFileFor): the auth.json with base64 user:password is written to
  // RUNNER_TEMP and never removed, so every later step of the job (any third-party action) can read the registry
  // password. Fixed by withAuthFile: return a cleanup (or use try/finally in push-layout/promote-tags main) that deletes the
  // golden-image-auth-* directory when the step ends, failed or not.
  test('push-layout leaves no credentials behind in RUNNER_TEMP once the step is over', async () => {
    const { step, files } = await bundled('push-layout', { ...pushInputs(authRegistry.host), tags: 'sha-1eft0ver' });
    expect(step.exitCode).toBe(0);
    expect(filesHolding(files.temp, secretForms(PASSWORD, USER))).toEqual([]);
  });

  test('sign-digest keyless: the OIDC token is masked before any group and appears nowhere else', async () => {
    const server = await startTokenServer(directClaims());
    try {
      const { step, files } = await bundled(
        'sign-digest',
        {
          image: `${registry.host}/secrets/app`,
          digest: layout.digest,
          'install-tools': 'false',
          'tls-verify': 'false',
        },
        server.env,
      );
      expect(step.exitCode).toBe(0);
      const token = craftToken(directClaims('sigstore'));
      expect(step.log).toContain(`::add-mask::${token}`);
      const seen = everythingTheRunnerSaw(step, files);
      expect(leaks(seen, token)).toEqual([]);
      expect(leaks(seen, server.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test('sign-digest key-based, wrong COSIGN_PASSWORD: masked first, in no line of the log', async () => {
    const password = 'wr0ng-Key/pass+word';
    const { step, files } = await bundled(
      'sign-digest',
      {
        image: `${registry.host}/secrets/app`,
        digest: layout.digest,
        key: keyPair.key,
        'install-tools': 'false',
        'tls-verify': 'false',
      },
      { COSIGN_PASSWORD: password },
    );
    expect(step.exitCode).toBe(1);
    expect(step.log).toContain('decryption failed');
    maskedFirst(step, password);
    expect(leaks(everythingTheRunnerSaw(step, files), password)).toEqual([]);
  });
});
