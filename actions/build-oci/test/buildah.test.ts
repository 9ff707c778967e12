import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLayout } from '@golden-image/oci';
import { createTestContext, toolAvailable } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { main } from '../main.js';
import { DoublesRunner, flagValues, sampleImage } from './helpers.js';

const hasBuildah = toolAvailable('buildah');

/** Reads a blob of a layout as JSON. */
function blob(layout: string, digest: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8'));
}

describe('build-oci with builder: buildah (the real buildah, vfs storage under a temp dir, no daemon)', () => {
  if (!hasBuildah) {
    test.skip('buildah is not installed here', () => {});
    return;
  }

  test('builds linux/amd64 and linux/arm64 from the sample image into a layout that verifies', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-buildah-'));
    const runner = new DoublesRunner();
    const { ctx, recorded } = createTestContext(
      {
        builder: 'buildah',
        context: sampleImage,
        platforms: 'linux/amd64,linux/arm64',
        'build-args': 'GREETING=hi, there',
        labels: 'org.opencontainers.image.source=https://github.com/golden-image/golden-image',
      },
      { runner, tempDir: temp, env: { ...process.env, SOURCE_DATE_EPOCH: '0' } },
    );
    await main(ctx);

    const layoutPath = recorded.outputs['layout-path'] as string;
    const layout = await verifyLayout(layoutPath, recorded.outputs.digest, { layers: 'digest' });
    expect(layout.path.startsWith(temp)).toBe(true);
    const images = layout.manifests.filter((m) => !m.attestation);
    expect(images.map((m) => m.platform).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    const platforms = JSON.parse(recorded.outputs.platforms as string) as Record<string, string>;
    expect(platforms).toEqual(Object.fromEntries(images.map((m) => [m.platform, m.digest])));

    // The image is what the Dockerfile says: its label, and the created time SOURCE_DATE_EPOCH asked for.
    const manifest = blob(layoutPath, platforms['linux/arm64'] as string) as {
      config: { digest: string };
      layers: unknown[];
    };
    const config = blob(layoutPath, manifest.config.digest) as {
      architecture: string;
      created: string;
      config: { Labels: Record<string, string> };
    };
    expect(config.architecture).toBe('arm64');
    expect(config.created).toBe('1970-01-01T00:00:00Z');
    expect(config.config.Labels['org.opencontainers.image.source']).toBe(
      'https://github.com/golden-image/golden-image',
    );
    // Without --layers buildah commits the whole build as one layer: it holds exactly the files COPY put there.
    const layers = manifest.layers as { digest: string }[];
    expect(layers).toHaveLength(1);
    const listing = execFileSync(
      'tar',
      ['-tzf', join(layoutPath, 'blobs', 'sha256', (layers[0] as { digest: string }).digest.slice(7))],
      { encoding: 'utf8' },
    );
    expect(
      listing
        .split('\n')
        .filter((name) => name && !name.endsWith('/'))
        .sort(),
    ).toEqual(['etc/motd', 'hello.txt']);

    const metadata = JSON.parse(recorded.outputs.metadata as string);
    expect(metadata).toMatchObject({ builder: 'buildah', digest: layout.digest, platforms });
    expect(metadata.version).toMatch(/^\d+\.\d+/);
    // Provenance and SBOM were asked for by default: buildah cannot, and says so without failing.
    expect(recorded.warnings.join('\n')).toContain('buildah cannot attach provenance or SBOM attestations');

    // One build per platform, in the order asked, so the index order and digest do not depend on timing.
    const builds = runner.calls.filter((c) => c.args.includes('build')).map((c) => c.args);
    expect(builds.map((args) => flagValues(args, '--platform'))).toEqual([['linux/amd64'], ['linux/arm64']]);
    const build = builds[0] ?? [];
    expect(flagValues(build, '--isolation')).toEqual(['chroot']);
    expect(flagValues(build, '--storage-driver')).toEqual(['vfs']);
    expect(flagValues(build, '--timestamp')).toEqual(['0']);
    const push = runner.calls.find((c) => c.args.includes('push'))?.args ?? [];
    expect(push).toContain('--all');
    expect(push.at(-1)).toBe(`oci:${layout.path}`);
    // The vfs store is removed afterwards; only the layout stays.
    expect(readdirSync(temp).filter((name) => name.startsWith('golden-image-buildah-'))).toEqual([]);
    expect(recorded.summary).toContain(layout.digest);
    rmSync(temp, { recursive: true, force: true });
  });

  test('one platform with attestations off: no warning, and the layout verifies', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-buildah-'));
    const { ctx, recorded } = createTestContext(
      { builder: 'buildah', context: sampleImage, provenance: 'false', sbom: 'false' },
      { runner: new DoublesRunner(), tempDir: temp },
    );
    await main(ctx);
    const layout = await verifyLayout(recorded.outputs['layout-path'] as string, recorded.outputs.digest);
    expect(Object.keys(JSON.parse(recorded.outputs.platforms as string))).toEqual(['linux/amd64']);
    expect(layout.manifests).toHaveLength(1);
    expect(recorded.warnings).toEqual([]);
    rmSync(temp, { recursive: true, force: true });
  });

  test('hostile values reach buildah as literal values (checked in the built image)', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-buildah-hostile-'));
    const hadPwned = existsSync('/tmp/pwned');
    const label = `evil=$(touch /tmp/pwned) \`touch ${temp}/backtick\``;
    const { ctx, recorded } = createTestContext(
      {
        builder: 'buildah',
        context: sampleImage,
        'build-args': 'GREETING=$(touch /tmp/pwned)',
        labels: label,
        provenance: 'false',
        sbom: 'false',
      },
      { runner: new DoublesRunner(), tempDir: temp },
    );
    await main(ctx);
    const layoutPath = recorded.outputs['layout-path'] as string;
    const digest = Object.values(JSON.parse(recorded.outputs.platforms as string))[0] as string;
    const manifest = blob(layoutPath, digest) as { config: { digest: string } };
    const config = blob(layoutPath, manifest.config.digest) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels.evil).toBe(label.slice('evil='.length));
    expect(existsSync('/tmp/pwned')).toBe(hadPwned);
    expect(existsSync(join(temp, 'backtick'))).toBe(false);
    rmSync(temp, { recursive: true, force: true });
  });

  test('build-contexts, secret-files, no-cache and pull reach buildah: a named context is copied from', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-buildah-contexts-'));
    const context = join(temp, 'ctx');
    const extra = join(temp, 'extra');
    mkdirSync(context);
    mkdirSync(extra);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY --from=extra note.txt /note.txt\n');
    writeFileSync(join(extra, 'note.txt'), 'from the extra context\n');
    writeFileSync(join(temp, 'token.txt'), 'not printed');
    const runner = new DoublesRunner();
    const { ctx, recorded } = createTestContext(
      {
        builder: 'buildah',
        context,
        'build-contexts': `extra=${extra}`,
        'secret-files': `token=${join(temp, 'token.txt')}`,
        'no-cache': 'true',
        pull: 'true',
        provenance: 'false',
        sbom: 'false',
      },
      { runner, tempDir: join(temp, 'runner-temp') },
    );
    await main(ctx);
    const build = runner.calls.find((call) => call.args.includes('build'));
    expect(build?.args).toEqual(
      expect.arrayContaining([
        '--build-context',
        `extra=${extra}`,
        '--secret',
        `id=token,src=${join(temp, 'token.txt')}`,
        '--no-cache',
        '--pull=always',
      ]),
    );
    const layoutPath = recorded.outputs['layout-path'] as string;
    const digest = Object.values(JSON.parse(recorded.outputs.platforms as string))[0] as string;
    const manifest = blob(layoutPath, digest) as { layers: { digest: string }[] };
    const layer = join(layoutPath, 'blobs', 'sha256', (manifest.layers[0]?.digest ?? '').slice('sha256:'.length));
    expect(execFileSync('tar', ['-xzOf', layer, 'note.txt'], { encoding: 'utf8' })).toBe('from the extra context\n');
    rmSync(temp, { recursive: true, force: true });
  });
});
