import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildContext, type BuildRequest, buildahArgs, buildWithBuildah } from '@golden-image/image-build';
import { ExecRunner } from '@golden-image/kit';
import { verifyLayout } from '@golden-image/oci';
import { repoRoot, toolAvailable } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';

const sampleImage = join(repoRoot, 'test', 'fixtures', 'sample-image');
const hasBuildah = toolAvailable('buildah');

function plainContext(tempDir: string): BuildContext & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    runner: new ExecRunner(),
    env: process.env,
    tempDir,
    info: () => {},
    warning: (m) => warnings.push(m),
    warnings,
  };
}

describe('buildahArgs', () => {
  test('global storage flags, chroot isolation, one manifest list, and an explicit --all push to oci:DIR', () => {
    const request: BuildRequest = {
      context: '/ctx',
      file: '/ctx/Containerfile',
      platforms: ['linux/amd64', 'linux/arm64'],
      buildArgs: ['A=$(id)'],
      secrets: ['id=t,env=TOKEN', 'id=f,src=/s'],
      labels: ['l=1'],
      annotations: ['a=2'],
      target: 'final',
      ssh: ['default', 'github=/keys/id_ed25519'],
      buildContexts: ['base=docker-image://alpine:3.20', 'src=/ctx/src'],
      noCache: true,
      pull: true,
      cacheFrom: [],
      cacheTo: [],
      provenance: 'false',
      sbom: 'false',
      layoutPath: '/out',
      timestamp: 0,
    };
    const storage = { root: '/s/root', runroot: '/s/run', manifest: 'localhost/m', digestFile: '/s/digest' };
    const { builds, push } = buildahArgs(request, storage);
    const global = ['--root', '/s/root', '--runroot', '/s/run', '--storage-driver', 'vfs'];
    expect(builds).toHaveLength(2);
    expect(builds[1]?.slice(0, 9)).toEqual([...global, 'build', '--platform', 'linux/arm64']);
    expect(builds[0]).toEqual([
      ...global,
      'build',
      '--platform',
      'linux/amd64',
      '--isolation',
      'chroot',
      '--format',
      'oci',
      '--manifest',
      'localhost/m',
      '--timestamp',
      '0',
      '--file',
      '/ctx/Containerfile',
      '--target',
      'final',
      '--build-arg',
      'A=$(id)',
      '--secret',
      'id=t,type=env,src=TOKEN',
      '--secret',
      'id=f,src=/s',
      '--label',
      'l=1',
      '--ssh',
      'default',
      '--ssh',
      'github=/keys/id_ed25519',
      '--build-context',
      'base=docker-image://alpine:3.20',
      '--build-context',
      'src=/ctx/src',
      '--no-cache',
      '--pull=always',
      '--annotation',
      'a=2',
      '/ctx',
    ]);
    expect(push).toEqual([
      ...global,
      'manifest',
      'push',
      '--all',
      '--format',
      'oci',
      '--digestfile',
      '/s/digest',
      'localhost/m',
      'oci:/out',
    ]);
    const withPolicy = buildahArgs(request, {
      ...storage,
      signaturePolicy: '/s/policy.json',
      registriesConf: '/s/registries.conf',
    });
    expect(withPolicy.builds[0]?.slice(0, 8)).toEqual([...global, '--registries-conf', '/s/registries.conf']);
    expect(withPolicy.push).toContain('--signature-policy');
  });
});

describe('buildWithBuildah (the API the demo calls), with the real buildah', () => {
  if (!hasBuildah) {
    test.skip('buildah is not installed here', () => {});
    return;
  }

  test('defaults: linux/amd64 into a fresh directory under tempDir; reproducible with a timestamp', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-buildah-'));
    const ctx = plainContext(temp);
    const first = await buildWithBuildah(ctx, { context: sampleImage, timestamp: 0 });
    const second = await buildWithBuildah(ctx, { context: sampleImage, timestamp: 0 });
    expect(first.builder).toBe('buildah');
    expect(first.layout.path.startsWith(temp)).toBe(true);
    expect(second.layout.path).not.toBe(first.layout.path);
    expect((await verifyLayout(first.layout.path, first.layout.digest)).digest).toBe(first.layout.digest);
    expect(Object.keys(first.platforms)).toEqual(['linux/amd64']);
    // One platform, same inputs, same timestamp: the same bytes.
    expect(second.layout.digest).toBe(first.layout.digest);
    expect(ctx.warnings).toEqual([]);
    rmSync(temp, { recursive: true, force: true });
  });

  test('a non-empty layoutPath is refused before buildah builds anything', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-buildah-'));
    writeFileSync(join(temp, 'index.json'), '{}');
    await expect(
      buildWithBuildah(plainContext(join(temp, 'scratch')), { context: sampleImage, layoutPath: temp }),
    ).rejects.toThrow(/Input "layout-path": .* is not empty/);
    rmSync(temp, { recursive: true, force: true });
  });

  test('a failing build reports buildah stderr', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-buildah-'));
    writeFileSync(join(temp, 'Dockerfile'), 'FROM scratch\nCOPY missing.txt /\n');
    await expect(
      buildWithBuildah(plainContext(join(temp, 'scratch')), { context: temp, provenance: 'false' }),
    ).rejects.toThrow(/buildah build for linux\/amd64 failed \(exit \d+\):[\s\S]*missing\.txt/);
    rmSync(temp, { recursive: true, force: true });
  });
});
