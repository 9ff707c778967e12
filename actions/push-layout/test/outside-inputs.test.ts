// Layouts and registries made by other tools, through the bundled push-layout (dist/push-layout, as the runner runs
// it) against a real registry with the real skopeo.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Digest } from '@golden-image/oci';
import { Skopeo } from '@golden-image/oci-registry';
import {
  type BuiltLayout,
  buildLayout,
  freePort,
  parseOutputFile,
  RecordingRunner,
  repoRoot,
  runBundledAction,
  type StepResult,
  skipOffCi,
  startRegistry,
  type TestRegistry,
  tempDir,
  toolAvailable,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import semver from 'semver';

const ready = toolAvailable('skopeo');
let registry: TestRegistry;
let locked: TestRegistry;
let skopeoVersion = '0.0.0';
beforeAll(async () => {
  [registry, locked] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { username: 'ci', password: 'right-password' } }),
  ]);
  skopeoVersion = await new Skopeo(new RecordingRunner(), { tlsVerify: false }).version();
});
afterAll(async () => {
  await Promise.all([registry?.stop(), locked?.stop()]);
});

const skopeo = () => new Skopeo(new RecordingRunner(), { tlsVerify: false });

function push(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<StepResult> {
  return runBundledAction('push-layout', { 'tls-verify': 'false', ...inputs }, { env });
}

/** Adds blobs to a layout; returns their descriptors. */
function put(layout: string, value: object | Buffer) {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value));
  const digest = sha256Digest(bytes);
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** Appends an SBOM artifact manifest to the layout's top index; `artifactType` also on its descriptor (OCI 1.1). */
function addArtifact(built: BuiltLayout, onDescriptor: boolean): string {
  const index = JSON.parse(readFileSync(join(built.path, 'blobs', 'sha256', built.digest.slice(7)), 'utf8'));
  const manifest = put(built.path, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/spdx+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...put(built.path, Buffer.from('{}')) },
    layers: [{ mediaType: 'application/spdx+json', ...put(built.path, { spdxVersion: 'SPDX-2.3' }) }],
  });
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...manifest,
    ...(onDescriptor ? { artifactType: 'application/spdx+json' } : {}),
  });
  const top = put(built.path, index);
  writeFileSync(
    join(built.path, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...top }] }),
  );
  return top.digest;
}

describe('layouts written by other tools', () => {
  if (!ready) {
    test.skip('skopeo is not installed here', () => {});
    return;
  }

  test.each([
    ['two names for one image (umoci, repeated skopeo copies)', true],
    ['two unnamed entries for one image', false],
  ])('index.json with %s: exactly the image the digest names is pushed', async (_, named) => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'], seed: `two-${named}` });
    const index = JSON.parse(readFileSync(join(built.path, 'index.json'), 'utf8'));
    const entry = index.manifests[0];
    index.manifests = ['latest', 'v1'].map((name) => ({
      ...entry,
      annotations: named ? { 'org.opencontainers.image.ref.name': name } : {},
    }));
    writeFileSync(join(built.path, 'index.json'), JSON.stringify(index));
    const image = `${registry.host}/outside/two-${named}`;
    const run = await push({ 'layout-path': built.path, digest: built.digest, image, tags: 'sha-2e2e2e2' });
    expect(run.log).not.toContain('more than one image');
    expect(run.exitCode).toBe(0);
    expect(run.log).toContain(`index.json lists 2 entries; only ${built.digest} (the "digest" input) is pushed.`);
    expect(await skopeo().digestOf(`${image}:sha-2e2e2e2`)).toBe(built.digest);
    // The layout was only read: its index.json still names the image twice.
    expect(JSON.parse(readFileSync(join(built.path, 'index.json'), 'utf8')).manifests).toHaveLength(2);
  });

  test('an OCI 1.1 index whose entries carry artifactType: refused at once with the reason, or pushed unchanged', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'artifact-type' });
    const digest = addArtifact(built, true);
    const image = `${registry.host}/outside/artifact-type`;
    const uploads = () => registry.requests(/"(POST|PUT) \/v2\/outside\/artifact-type\//).length;
    const run = await push({ 'layout-path': built.path, digest, image, tags: 'sha-a1a1a1a' });
    if (semver.lt(skopeoVersion, '1.11.0')) {
      expect(run.exitCode).toBe(1);
      expect(run.log).toContain(`skopeo ${skopeoVersion} cannot push this layout unchanged`);
      expect(run.log).toContain('has artifactType "application/spdx+json"');
      expect(run.log).toContain('Use skopeo 1.11 or newer');
      expect(run.log).not.toContain('Retrying');
      expect(run.log).not.toContain('bug in golden-image');
      expect(uploads()).toBe(0);
    } else {
      expect(run.exitCode).toBe(0);
      expect(await skopeo().digestOf(`${image}:sha-a1a1a1a`)).toBe(digest);
    }
  });

  test('an artifact inside an index is pushed with it and left out of the platforms output', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'], seed: 'artifact' });
    const digest = addArtifact(built, false);
    const image = `${registry.host}/outside/artifact`;
    const run = await push({ 'layout-path': built.path, digest, image, tags: 'sha-a2a2a2a' });
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.outputs.platforms as string)).toEqual(built.platforms);
    expect(await skopeo().digestOf(`${image}:sha-a2a2a2a`)).toBe(digest);
    // What was checked, and no more.
    expect(run.log).toContain(
      'every index, manifest and config hashes to its name; layers are present, readable and of the described size (not hashed here',
    );
    expect(run.log).not.toContain('all present and intact');
  });
});

/**
 * The bundled action as the `nobody` user (the runner user that did not write the layout). The bundle is copied to a
 * directory that user can enter: the checkout may sit under one it cannot (a clone in a 0700 home or temp dir).
 */
async function pushAsNobody(inputs: Record<string, string>): Promise<StepResult> {
  const dir = tempDir('golden-image-nobody-');
  chmodSync(dir, 0o777);
  const bundle = join(dir, 'push-layout.mjs');
  copyFileSync(join(repoRoot, 'dist', 'push-layout', 'index.js'), bundle);
  chmodSync(bundle, 0o644);
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o777 });
  chmodSync(home, 0o777);
  const output = join(dir, 'output');
  writeFileSync(output, '', { mode: 0o666 });
  chmodSync(output, 0o666);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, RUNNER_TEMP: dir, GITHUB_OUTPUT: output };
  for (const [name, value] of Object.entries({ 'tls-verify': 'false', ...inputs }))
    env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(process.execPath, [bundle], {
    env,
    cwd: dir,
    uid: 65534,
    gid: 65534,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => {
    log += chunk;
  });
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  return { exitCode, log, outputs: parseOutputFile(readFileSync(output, 'utf8')), summary: '' };
}

describe('layout files the runner user cannot read (umoci writes 0600)', () => {
  const root = process.getuid?.() === 0;
  if (!root) skipOffCi('running the action as another user (uid 65534) needs root');
  if (!ready || !root) {
    test.skip('needs skopeo and root (to run the action as another user)', () => {});
    return;
  }

  async function readableLayout(seed: string) {
    const parent = tempDir('golden-image-unreadable-');
    chmodSync(parent, 0o755);
    const built = await buildLayout(join(parent, 'layout'), { platforms: ['linux/amd64'], seed, attestations: false });
    chmodSync(built.path, 0o755);
    for (const dir of ['blobs', 'blobs/sha256']) chmodSync(join(built.path, dir), 0o755);
    for (const name of readdirSync(join(built.path, 'blobs', 'sha256')))
      chmodSync(join(built.path, 'blobs', 'sha256', name), 0o644);
    for (const name of ['oci-layout', 'index.json']) chmodSync(join(built.path, name), 0o644);
    return built;
  }

  test('a 0600 blob is reported by name with the permission fix, not as a bug and not halfway through a push', async () => {
    const built = await readableLayout('private-blob');
    const manifest = JSON.parse(readFileSync(join(built.path, 'blobs', 'sha256', built.digest.slice(7)), 'utf8')) as {
      layers: { digest: string }[];
    };
    const layer = join(built.path, 'blobs', 'sha256', (manifest.layers[0] as { digest: string }).digest.slice(7));
    chmodSync(layer, 0o600);
    const image = `${registry.host}/outside/private`;
    const run = await pushAsNobody({ 'layout-path': built.path, digest: built.digest, image, tags: 'sha-b0b0b0b' });
    expect(run.exitCode).toBe(1);
    expect(run.log).toContain(`${layer} cannot be read by the user this step runs as (uid 65534): EACCES`);
    expect(run.log).toContain('chmod -R a+rX');
    expect(run.log).not.toContain('bug in golden-image');
    expect(registry.requests(/\/v2\/outside\/private\//)).toEqual([]);
  });

  test('an unreadable layout directory is called unreadable, not "no oci-layout file"', async () => {
    const built = await readableLayout('private-dir');
    chmodSync(built.path, 0o700);
    const run = await pushAsNobody({
      'layout-path': built.path,
      digest: built.digest,
      image: `${registry.host}/outside/private-dir`,
      tags: 'sha-b1b1b1b',
    });
    expect(run.exitCode).toBe(1);
    expect(run.log).toContain(`${built.path} cannot be read by the user this step runs as (uid 65534): EACCES`);
    expect(run.log).not.toContain('no oci-layout file');
    expect(run.log).not.toContain('bug in golden-image');
  });
});

describe('registry errors are told apart', () => {
  if (!ready) {
    test.skip('skopeo is not installed here', () => {});
    return;
  }

  test('"401" and "denied" in a port, a repository and a tag are not a refusal of the credentials', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'names' });
    const port = await freePort(); // nothing listens there
    const run = await push(
      {
        'layout-path': built.path,
        digest: built.digest,
        image: `localhost:${port}/denied-401/x401`,
        tags: 'sha-4014014',
      },
      { GOLDEN_IMAGE_RETRY_DELAY_SCALE: '0.01' },
    );
    expect(run.exitCode).toBe(1);
    expect(run.log).toContain('connection refused');
    expect(run.log).not.toMatch(/refused the credentials|log in to it first/);
  });

  test('a wrong password is a refusal of the credentials, with the login advice', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'wrong-password' });
    const run = await push({
      'layout-path': built.path,
      digest: built.digest,
      image: `${locked.host}/outside/locked`,
      tags: 'sha-c0c0c0c',
      username: 'ci',
      password: 'wrong-password',
    });
    expect(run.exitCode).toBe(1);
    expect(run.log).toContain('unauthorized: authentication required');
    expect(run.log).toContain('The registry refused the credentials, or had none for this image: log in to it first');
    expect(run.log).not.toContain('Retrying');
  });
});

describe('the job summary', () => {
  if (!ready) {
    test.skip('skopeo is not installed here', () => {});
    return;
  }

  test('a summary that cannot be written is a warning: the push stands and the step succeeds', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'summary' });
    const image = `${registry.host}/outside/summary`;
    const run = await push(
      { 'layout-path': built.path, digest: built.digest, image, tags: 'sha-5a5a5a5' },
      { GITHUB_STEP_SUMMARY: join(tempDir(), 'no', 'such', 'dir', 'summary.md') },
    );
    expect(run.exitCode).toBe(0);
    expect(run.log).toMatch(/::warning::The job summary could not be written \(.*\); the step's work is done\./);
    expect(run.outputs.digest).toBe(built.digest);
    expect(await skopeo().digestOf(`${image}:sha-5a5a5a5`)).toBe(built.digest);
  });
});
