// Shared set-up of the real-tool tier for signing: the real cosign v2 and v3 binaries, a clean environment (no docker
// login, no OIDC, no public trust root cache), images pushed with push-layout (real skopeo) to a real registry.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  createTestContext,
  pathDirFor,
  realTool,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { type ensureTool, PINS } from '@golden-image/tools';
import { main as promoteTags } from '../../promote-tags/main.js';
import { main as pushLayout } from '../../push-layout/main.js';
import { main as signDigest } from '../main.js';

export interface RealCosign {
  name: 'v2' | 'v3';
  bin: string;
}

/** The real cosign builds present (bin/cosign is v2.6, bin/cosign-v3 is v3.1); missing ones skip off CI. */
export function realCosigns(): RealCosign[] {
  const found: RealCosign[] = [];
  const v2 = realTool('cosign', ['version']);
  const v3 = realTool('cosign-v3', ['version']);
  if (v2) found.push({ name: 'v2', bin: v2 });
  if (v3) found.push({ name: 'v3', bin: v3 });
  return found;
}

/**
 * An environment with nothing of the machine's: HOME is empty (no ~/.docker/config.json, no ~/.sigstore TUF cache),
 * no OIDC, no cosign or registry variables, and `cosign` on PATH is the given real build.
 */
export function cleanEnv(cosign: RealCosign, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('golden-image-real-home-');
  const keep = ['PATH', 'LANG', 'TMPDIR', 'CI', 'GOLDEN_IMAGE_TOOLS_DIR'];
  const base = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  return {
    ...base,
    HOME: home,
    PATH: `${pathDirFor({ cosign: cosign.bin })}:${process.env.PATH ?? ''}`,
    RUNNER_TEMP: join(home, 'runner-temp'),
    ...extra,
  };
}

/** ensureTool (install-tools: false) finds cosign on this process's PATH: put the chosen build first there. */
export function useCosign(cosign: RealCosign): () => void {
  const saved = process.env.PATH;
  process.env.PATH = `${pathDirFor({ cosign: cosign.bin })}:${saved ?? ''}`;
  return () => {
    process.env.PATH = saved;
  };
}

export interface Credentials {
  username: string;
  password: string;
}

/** A two-platform image with attestation manifests, pushed byte for byte by push-layout; returns its digests. */
export async function pushImage(registry: TestRegistry, repository: string, seed: string, auth?: Credentials) {
  const layout = await buildLayout(tempDir('golden-image-real-layout-'), {
    platforms: ['linux/amd64', 'linux/arm64'],
    seed,
  });
  const image = `${registry.host}/${repository}`;
  const { ctx } = createTestContext({
    'layout-path': layout.path,
    digest: layout.digest,
    image,
    tags: `sha-${seed}`,
    'tls-verify': 'false',
    'tag-race-window-ms': '0',
    ...(auth ?? {}),
  });
  await pushLayout(ctx);
  return { image, digest: layout.digest, platforms: Object.values(layout.platforms), tag: `sha-${seed}` };
}

/** cosign generate-key-pair with COSIGN_PASSWORD, in a fresh directory. */
export function keyPair(cosign: RealCosign, password: string): { key: string; pub: string } {
  const dir = tempDir('golden-image-real-key-');
  execFileSync(cosign.bin, ['generate-key-pair'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, COSIGN_PASSWORD: password },
    stdio: 'ignore',
  });
  return { key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
}

/** A docker config holding the credentials, for running cosign by hand the way a person would after docker login. */
export function dockerConfigEnv(registry: TestRegistry, auth?: Credentials): NodeJS.ProcessEnv {
  if (!auth) return {};
  const dir = tempDir('golden-image-real-docker-');
  mkdirSync(dir, { recursive: true });
  const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: encoded } } }));
  return { DOCKER_CONFIG: dir };
}

/** Runs the real cosign with argv and env, as a person at a shell would. */
export function runCosign(cosign: RealCosign, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(cosign.bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** Runs an action's main in-process with a recording context. */
async function run(
  main: (ctx: ReturnType<typeof createTestContext>['ctx']) => Promise<void>,
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv,
) {
  const runnerTemp = env.RUNNER_TEMP ?? tempDir('golden-image-real-runner-');
  mkdirSync(runnerTemp, { recursive: true });
  const { ctx, recorded } = createTestContext(inputs, { env, tempDir: runnerTemp });
  let error: Error | undefined;
  try {
    await main(ctx);
  } catch (caught) {
    error = caught as Error;
  }
  return { recorded, error, runnerTemp };
}

/**
 * Stands for the suite's installer on a networked runner: cosign <version> is the build of this machine (the
 * official releases cannot be downloaded here, and no cache may stand in for them).
 */
export type Installer = typeof ensureTool;
export function installerOf(byVersion: Record<string, string>): Installer {
  return async (_ctx, request) => {
    const path = byVersion[request.version ?? PINS.cosign.defaultVersion];
    if (!path) throw new Error(`no cosign ${request.version} here`);
    return path;
  };
}

export const runSignDigest = (inputs: Record<string, string>, env: NodeJS.ProcessEnv, installTool?: Installer) =>
  run(
    (ctx) => signDigest(ctx, installTool ? { installTool } : {}),
    { 'install-tools': 'false', 'tls-verify': 'false', ...inputs },
    env,
  );

export const runPromoteTags = (inputs: Record<string, string>, env: NodeJS.ProcessEnv, installTool?: Installer) =>
  run(
    (ctx) => promoteTags(ctx, new Date(), installTool ? { installTool } : {}),
    { 'install-tools': 'false', 'tls-verify': 'false', engine: 'skopeo', ...inputs },
    env,
  );

/** The digest a tag resolves to, read with skopeo (undefined when the tag does not exist). */
export function tagDigest(ref: string, auth?: Credentials): string | undefined {
  const creds = auth ? ['--creds', `${auth.username}:${auth.password}`] : [];
  const result = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${ref}`]);
  if (result.status !== 0) return undefined;
  return `sha256:${createHash('sha256').update(result.stdout).digest('hex')}`;
}
