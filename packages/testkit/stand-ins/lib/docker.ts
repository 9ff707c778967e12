// `docker login` / `docker logout` as the docker CLI leaves them: the credentials checked against the registry's
// /v2/ endpoint, then auths[host] in the docker config. The registry is reached at the loopback address
// StandInConfig.registries gives its host; a host it does not list fails as an unresolvable one does.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { StandInRegistry } from '../../src/act/stand-in-config.js';
import { standInConfig } from './config.js';
import { isLoopback } from './loopback.js';

const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

export function dockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/** The key docker writes under auths: Docker Hub's index URL, else the host name without scheme or path. */
export function authKey(registry: string): string {
  const host = registry.replace(/^\w+:\/\//, '').replace(/\/.*$/, '');
  return DOCKER_HUB.includes(host) || host === '' ? 'https://index.docker.io/v1/' : host;
}

export function registryEntry(registry: string): { host: string; entry: StandInRegistry } {
  const host = registry.replace(/^\w+:\/\//, '').replace(/\/.*$/, '');
  const registries = standInConfig().registries;
  const names = DOCKER_HUB.includes(host) ? DOCKER_HUB : [host];
  for (const name of names) {
    const entry = registries[name];
    if (entry) return { host, entry };
  }
  const lookup = DOCKER_HUB.includes(host) ? 'registry-1.docker.io' : host;
  throw new Error(
    `Error response from daemon: Get "https://${lookup}/v2/": dial tcp: lookup ${lookup.replace(/:\d+$/, '')}: no such host`,
  );
}

function get(
  entry: StandInRegistry,
  servername: string,
  url: string,
  authorization?: string,
): Promise<IncomingMessage> {
  const target = new URL(url);
  const [hostname, port] = [target.hostname, target.port];
  if (!isLoopback(hostname)) {
    return Promise.reject(new Error(`the stand-ins reach registries on loopback only, not ${target.host}`));
  }
  const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
  return new Promise((resolve, reject) => {
    const options = {
      hostname,
      port,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers,
      ...(entry.tls
        ? {
            ca: entry.caFile ? readFileSync(entry.caFile) : undefined,
            servername,
            // The certificate names the registry host, or the loopback address it is served on.
            checkServerIdentity: (_: string, cert: PeerCertificate) =>
              checkServerIdentity(servername, cert) ? checkServerIdentity(hostname, cert) : undefined,
          }
        : {}),
    };
    const req = (entry.tls ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Checks username/password the way the engine's login does: basic auth on /v2/, or the bearer token realm's. */
export async function checkLogin(registry: string, username: string, password: string): Promise<void> {
  const { host, entry } = registryEntry(registry);
  const scheme = entry.tls ? 'https' : 'http';
  const servername = host.replace(/:\d+$/, '');
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const base = `${scheme}://${entry.address}`;
  let res: IncomingMessage;
  try {
    res = await get(entry, servername, `${base}/v2/`, basic);
  } catch (error) {
    throw new Error(`Error response from daemon: Get "${scheme}://${host}/v2/": ${(error as Error).message}`);
  }
  const challenge = String(res.headers['www-authenticate'] ?? '');
  if (res.statusCode === 401 && /^bearer /i.test(challenge)) {
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
    const service = /service="([^"]+)"/.exec(challenge)?.[1];
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('account', username);
    res = await get(entry, servername, url.toString(), basic);
  }
  if (res.statusCode !== 200) {
    const status = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
    throw new Error(
      `Error response from daemon: login attempt to ${scheme}://${host}/v2/ failed with status: ${status}`,
    );
  }
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string }>;
  [key: string]: unknown;
}

function readDockerConfig(): DockerConfigFile {
  const file = join(dockerConfigDir(), 'config.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DockerConfigFile) : {};
}

function writeDockerConfig(config: DockerConfigFile): void {
  mkdirSync(dockerConfigDir(), { recursive: true });
  writeFileSync(join(dockerConfigDir(), 'config.json'), `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
}

/** `docker login --password-stdin --username U REGISTRY`: checked, then stored (other entries kept). */
export async function dockerLogin(registry: string, username: string, password: string): Promise<void> {
  await checkLogin(registry, username, password);
  const config = readDockerConfig();
  config.auths = {
    ...config.auths,
    [authKey(registry)]: { auth: Buffer.from(`${username}:${password}`).toString('base64') },
  };
  writeDockerConfig(config);
}

/** `docker logout REGISTRY`: false when it was not logged in (docker says so and exits 0). */
export function dockerLogout(registry: string): boolean {
  const config = readDockerConfig();
  const key = authKey(registry);
  if (!config.auths?.[key]) return false;
  delete config.auths[key];
  writeDockerConfig(config);
  return true;
}
