import { execFileSync } from 'node:child_process';
import { sha256Digest } from '@golden-image/oci';
import { startRegistry, type TestRegistry, untarBuildxLayout } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DoublesRunner } from './helpers.js';

// The double's imagetools subcommands run against a real registry (through skopeo), so other actions' tests
// (the Imagetools tag engine) see what buildx would do, including the one-manifest-source trap.
const MULTI = 'sha256:5ac2d3ac39878329a6328eba5b2a6e5e7a06279244eea0f2ea893f76cefff26c';
const AMD64 = 'sha256:0f90b7af6b2fef777963e3e1ca4fd66f378af93f5fe46304886943a4c0c7a46b';

describe('docker double: buildx imagetools against a real registry', () => {
  let registry: TestRegistry;
  let image: string;
  const runner = new DoublesRunner();
  const docker = (...args: string[]) => runner.run('docker', ['buildx', 'imagetools', ...args]);

  beforeAll(async () => {
    registry = await startRegistry();
    image = `${registry.host}/app`;
    const layout = untarBuildxLayout();
    execFileSync('skopeo', [
      'copy',
      '-q',
      '--all',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout.path}`,
      `docker://${image}:v1`,
    ]);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('inspect --raw prints the manifest bytes exactly (their sha256 is the digest)', async () => {
    const result = await docker('inspect', '--raw', `${image}:v1`);
    expect(result.exitCode).toBe(0);
    expect(sha256Digest(result.stdout)).toBe(MULTI);
    const both = await docker('inspect', '--raw', '--format', '{{json .}}', `${image}:v1`);
    expect(both.exitCode).toBe(1);
    expect(both.stderr).toContain('format and raw cannot be used together');
    const missing = await docker('inspect', '--raw', `${image}:nope`);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
  });

  test('create from an index source copies it as is: the tag gets the same digest', async () => {
    const result = await docker('create', '--tag', `${image}:rolling`, `${image}@${MULTI}`);
    expect(result.exitCode).toBe(0);
    expect(sha256Digest((await docker('inspect', '--raw', `${image}:rolling`)).stdout)).toBe(MULTI);
  });

  test('create from ONE single-manifest source wraps it in a new index with a new digest', async () => {
    const result = await docker('create', '--tag', `${image}:amd64`, `${image}@${AMD64}`);
    expect(result.exitCode).toBe(0);
    const bytes = (await docker('inspect', '--raw', `${image}:amd64`)).stdout;
    expect(sha256Digest(bytes)).not.toBe(AMD64);
    const index = JSON.parse(bytes.toString('utf8'));
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: AMD64, platform: { architecture: 'amd64', os: 'linux' } }),
    ]);
    const dry = await docker('create', '--dry-run', `${image}@${AMD64}`);
    expect(sha256Digest(dry.stdout)).toBe(sha256Digest(bytes));
  });

  test('create without --tag or --dry-run, and unknown flags, fail as buildx does', async () => {
    const noTag = await docker('create', `${image}@${MULTI}`);
    expect(noTag.exitCode).toBe(1);
    expect(noTag.stderr).toContain("can't push with no tags specified");
    const unknown = await docker('create', '--tags', `${image}:x`, `${image}@${MULTI}`);
    expect(unknown.exitCode).toBe(125);
    expect(unknown.stderr).toContain('unknown flag: --tags');
  });
});
