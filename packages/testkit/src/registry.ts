import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, stopChild, waitUntilUp } from './child.js';

export interface TestRegistry {
  /** `localhost:PORT`, the registry part of image names. */
  host: string;
  port: number;
  /** The storage directory (filesystem driver). */
  storage: string;
  /** The PEM CA certificate when started with TLS. */
  caCert?: string;
  /** Access-log lines (`"METHOD /v2/... HTTP/1.1" STATUS`) matching the pattern, since the registry started. */
  requests(pattern: RegExp): string[];
  /** Stops the registry and removes its storage and files. */
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Basic auth with this one user. */
  auth?: { username: string; password: string };
  /** Serve HTTPS with a fresh self-signed certificate for localhost (and `names`). */
  tls?: boolean;
  /** More DNS names in the certificate (a cloud registry's host, mapped to 127.0.0.1 by a hosts file). */
  names?: string[];
  /** A fixed port (443 for a registry named without one); default a free one. */
  port?: number;
  /** The loopback address to listen on (any of 127.0.0.0/8); default 127.0.0.1. */
  address?: string;
}

/** The distribution registry binary: Debian names it docker-registry, upstream registry. */
export function registryBinary(): string {
  for (const name of ['docker-registry', 'registry']) {
    try {
      execFileSync('which', [name], { stdio: 'ignore' });
      return name;
    } catch {}
  }
  throw new Error('The distribution registry is not installed: apt-get install docker-registry');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts a real distribution registry on a free loopback port with its own config and storage. */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-registry-'));
  const storage = join(dir, 'storage');
  const port = options.port ?? (await freePort());
  const address = options.address ?? '127.0.0.1';
  const lines = [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: false}}',
    `storage: {filesystem: {rootdirectory: ${JSON.stringify(storage)}}, delete: {enabled: true}}`,
  ];
  let caCert: string | undefined;
  if (options.tls) {
    const key = join(dir, 'key.pem');
    caCert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        `subjectAltName=${['localhost', ...(options.names ?? [])].map((name) => `DNS:${name}`).join(',')},IP:127.0.0.1`,
        '-keyout',
        key,
        '-out',
        caCert,
      ],
      { stdio: 'ignore' },
    );
    lines.push(
      `http: {addr: ${address}:${port}, tls: {certificate: ${JSON.stringify(caCert)}, key: ${JSON.stringify(key)}}}`,
    );
  } else {
    lines.push(`http: {addr: ${address}:${port}}`);
  }
  if (options.auth) {
    const htpasswd = join(dir, 'htpasswd');
    const entry = execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password]).toString();
    writeFileSync(htpasswd, entry);
    lines.push(`auth: {htpasswd: {realm: golden-image-test, path: ${JSON.stringify(htpasswd)}}}`);
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  // The registry writes its access log and its errors to files, not pipes: a test that blocks this process (a
  // spawnSync of kyverno or cosign reading from the registry) would otherwise stop reading a pipe, the registry would
  // block writing its log once 64 KiB are pending, and both would wait for each other until the test timed out.
  const outFile = join(dir, 'registry.out');
  const errFile = join(dir, 'registry.err');
  const out = openSync(outFile, 'a');
  const err = openSync(errFile, 'a');
  const child = spawn(registryBinary(), ['serve', config], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  const stderr = () => read(errFile);
  await waitUntilUp('registry', () => accepts(port, address), {
    child,
    up: `listen on ${port}`,
    timeoutMs: 15_000,
    intervalMs: 50,
    output: stderr,
  });
  return {
    host: `localhost:${port}`,
    port,
    storage,
    caCert,
    requests: (pattern) =>
      read(outFile)
        .split('\n')
        .filter((line) => line !== '' && pattern.test(line)),
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
