import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild, waitUntilUp } from './child.js';
import { repoRoot } from './fixtures.js';
import { freePort } from './registry.js';

export interface TestNpmRegistry {
  /** `http://127.0.0.1:PORT/`: the registry URL npm and the actions are given. */
  url: string;
  port: number;
  /** A publish token of the one htpasswd user, from a real login. */
  token: string;
  user: string;
  password: string;
  storage: string;
  /** Verdaccio's own log (warnings and errors), for failure messages. */
  log(): string;
  /** Stops Verdaccio and removes its storage and files. */
  stop(): Promise<void>;
}

export interface NpmRegistryOptions {
  /** Listen on this port (default: a free one), so a fault proxy can be started before the registry. */
  port?: number;
  /** The URL Verdaccio writes into dist.tarball (VERDACCIO_PUBLIC_URL): a fault proxy's, to route downloads through it. */
  publicUrl?: string;
}

/**
 * A real npm registry: Verdaccio 6.8.0 on a free loopback port, with its own storage, htpasswd auth with one
 * pre-made user (self-registration off), no uplinks (nothing is fetched from npmjs.org), anyone may read and
 * only that user may publish. The token comes from npm's login endpoint, as `npm login` gets it.
 */
export async function startVerdaccio(options: NpmRegistryOptions = {}): Promise<TestNpmRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-verdaccio-'));
  const storage = join(dir, 'storage');
  const port = options.port ?? (await freePort());
  const user = 'golden';
  const password = createHash('sha256').update(dir).digest('hex').slice(0, 24);
  const htpasswd = join(dir, 'htpasswd');
  writeFileSync(htpasswd, `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}\n`);
  const config = join(dir, 'config.yaml');
  const rule = '{ access: $all, publish: $authenticated, unpublish: $authenticated }';
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(storage)}`,
      `auth: { htpasswd: { file: ${JSON.stringify(htpasswd)}, max_users: -1 } }`,
      'uplinks: {}',
      `packages: { '@*/*': ${rule}, '**': ${rule} }`,
      'web: { enable: false }',
      'log: { type: stdout, format: json, level: warn }',
      'max_body_size: 64mb',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  if (options.publicUrl) env.VERDACCIO_PUBLIC_URL = options.publicUrl;
  else delete env.VERDACCIO_PUBLIC_URL;
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'verdaccio', 'bin', 'verdaccio'),
      '--config',
      config,
      '--listen',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitUntilUp(
      'verdaccio',
      async () => (await fetch(new URL('-/ping', url), { signal: AbortSignal.timeout(2000) })).ok,
      { child, up: `answer ${url}-/ping`, timeoutMs: 30_000, output: () => output, killOnTimeout: false },
    );
    const token = await login(url, user, password);
    return {
      url,
      port,
      token,
      user,
      password,
      storage,
      log: () => output,
      stop: async () => {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** `npm login`'s legacy flow for an existing user: PUT /-/user/org.couchdb.user:NAME with basic auth answers 201 and a token. */
async function login(url: string, user: string, password: string): Promise<string> {
  const answer = await fetch(new URL(`-/user/org.couchdb.user:${user}`, url), {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    },
    body: JSON.stringify({ name: user, password }),
  });
  const body = (await answer.json()) as { token?: string };
  if (answer.status !== 201 || !body.token)
    throw new Error(`verdaccio login failed: ${answer.status} ${JSON.stringify(body)}`);
  return body.token;
}
