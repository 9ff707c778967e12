// Re-runs and nightlies of one commit, through the bundled root action against a real registry (real buildah and
// skopeo; cosign and the scanners are the doubles). A rebuild of the same commit gets a new digest (here: another
// SOURCE_DATE_EPOCH, as a nightly gets new base images or BuildKit a new provenance id).
import { startRegistry, type TestRegistry, tempDir, toolAvailable } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  annotationsOf,
  commit,
  digestOf,
  type Key,
  keyPair,
  rootAction,
  serveDoubleDb,
  today,
} from './rerun-harness.js';

const ready = toolAvailable('buildah') && toolAvailable('skopeo');
let registry: TestRegistry;
let key: Key;
beforeAll(async () => {
  registry = await startRegistry();
  await serveDoubleDb(registry);
  key = keyPair();
});
afterAll(async () => {
  await registry?.stop();
});

describe('the same commit built again (the root action, bundled)', () => {
  if (!ready) {
    test.skip('buildah or skopeo is not installed here', () => {});
    return;
  }

  test('a nightly of an unchanged commit succeeds: the immutable tag stays, the rolling tags move to the new signed digest', async () => {
    const image = `${registry.host}/rerun/nightly`;
    const sha = commit('1a');
    const state = tempDir('golden-image-cosign-state-');
    const first = await rootAction({ image }, key, { sha, epoch: 0, state });
    expect(first.exitCode).toBe(0);
    const d1 = first.outputs.digest as string;
    expect(await digestOf(`${image}:sha-1a1a1a1`)).toBe(d1);
    expect(await annotationsOf(`${image}:sha-1a1a1a1`)).toMatchObject({
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.com/my-org/app',
    });

    const nightly = await rootAction({ image }, key, { sha, epoch: 86_400, event: 'schedule', state });
    expect(nightly.log).not.toContain('Refusing');
    expect(nightly.exitCode).toBe(0);
    const d2 = nightly.outputs.digest as string;
    expect(d2).not.toBe(d1);
    // The immutable tag never moved; every rolling tag (nightly's defaults) is on the new, signed digest.
    expect(await digestOf(`${image}:sha-1a1a1a1`)).toBe(d1);
    for (const tag of ['latest', 'nightly', `nightly-${today()}`]) expect(await digestOf(`${image}:${tag}`)).toBe(d2);
    expect(await digestOf(`${image}@${d2}`)).toBe(d2);
    expect(nightly.outputs['kept-tags']).toBe(`${image}:sha-1a1a1a1`);
    expect(nightly.summary).toContain('its immutable tags stay on the earlier build');
  });

  test('an immutable tag holding a build of another commit is refused, naming both commits; nothing moves', async () => {
    const image = `${registry.host}/rerun/other`;
    const state = tempDir('golden-image-cosign-state-');
    const first = await rootAction({ image, tags: 'v1.0.0' }, key, { sha: commit('2b'), state });
    expect(first.exitCode).toBe(0);
    const refused = await rootAction({ image, tags: 'v1.0.0' }, key, { sha: commit('3c'), epoch: 5, state });
    expect(refused.exitCode).toBe(1);
    expect(refused.log).toContain(
      `${image}:v1.0.0 already points at ${first.outputs.digest}: it is a build of commit ${commit('2b')}, this one of ${commit('3c')}`,
    );
    expect(await digestOf(`${image}:v1.0.0`)).toBe(first.outputs.digest);
    expect(await digestOf(`${image}:sha-3c3c3c3`)).toBeUndefined();
  });

  test('a re-run after a failure at signing builds again: the rebuild is pushed, signed and promoted; the immutable tag stays on the first build', async () => {
    const image = `${registry.host}/rerun/again`;
    const sha = commit('4d');
    const state = tempDir('golden-image-cosign-state-');
    const failed = await rootAction({ image }, key, { sha, epoch: 0, state, cosignPassword: 'wrong' });
    expect(failed.exitCode).toBe(1);
    expect(failed.log).toMatch(/decrypt/);
    const pushed = await digestOf(`${image}:sha-4d4d4d4`);
    expect(pushed).toMatch(/^sha256:/);
    expect(await digestOf(`${image}:latest`)).toBeUndefined();

    // "Re-run failed jobs": attempt 2 of the same run builds again (another epoch, another digest).
    const rerun = await rootAction({ image }, key, { sha, epoch: 999, attempt: 2, state });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.log).toContain('━━ build-oci');
    expect(rerun.outputs.digest).not.toBe(pushed);
    expect(await digestOf(`${image}:latest`)).toBe(rerun.outputs.digest);
    expect(await digestOf(`${image}:sha-4d4d4d4`)).toBe(pushed);
    expect(rerun.outputs['kept-tags']).toBe(`${image}:sha-4d4d4d4`);
  });

  test("a re-run never signs what it finds under the commit's tag: an image someone else pushed there, annotations and all, is left alone", async () => {
    const image = `${registry.host}/rerun/planted`;
    const sha = commit('6a');
    const state = tempDir('golden-image-cosign-state-');
    const failed = await rootAction({ image }, key, { sha, epoch: 0, state, cosignPassword: 'wrong' });
    expect(failed.exitCode).toBe(1);
    // Someone who can push to the registry (not to the repository) builds the same commit's tree with their own
    // change, stamped with this commit's revision and source, and puts it under sha-<commit>.
    const planted = await rootAction({ image, sign: 'false', 'allow-overwrite': 'true' }, key, {
      sha,
      epoch: 555,
      state: tempDir('golden-image-cosign-state-'),
    });
    expect(planted.exitCode).toBe(0);
    expect(await digestOf(`${image}:sha-6a6a6a6`)).toBe(planted.outputs.digest);

    const rerun = await rootAction({ image }, key, { sha, epoch: 999, attempt: 2, state });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.outputs.digest).not.toBe(planted.outputs.digest);
    expect(await digestOf(`${image}:latest`)).toBe(rerun.outputs.digest);
    expect(rerun.outputs['verify-command']).toContain(rerun.outputs.digest);
  });
});

describe('pull requests', () => {
  if (!ready) {
    test.skip('buildah or skopeo is not installed here', () => {});
    return;
  }

  test('on pull_request the image is built and scanned, nothing is pushed, signed or tagged, and the summary says so', async () => {
    const image = `${registry.host}/rerun/pr`;
    const state = tempDir('golden-image-cosign-state-');
    const before = registry.requests(/\/v2\/rerun\/pr\//).length;
    const run = await rootAction({ image }, key, { sha: commit('6f'), event: 'pull_request', state });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.pushed).toBe('false');
    expect(run.outputs.digest).toMatch(/^sha256:/);
    expect(run.outputs['image-ref']).toBe('');
    expect(registry.requests(/\/v2\/rerun\/pr\//).length).toBe(before);
    expect(run.log).not.toContain('━━ push-layout');
    expect(run.summary).toContain('Nothing was pushed, signed or tagged');
    expect(run.summary).toContain('set push: true to publish from them');
  });

  test('push: true publishes from a pull_request event', async () => {
    const image = `${registry.host}/rerun/pr-push`;
    const state = tempDir('golden-image-cosign-state-');
    const run = await rootAction({ image, push: 'true' }, key, { sha: commit('70'), event: 'pull_request', state });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.pushed).toBe('true');
    expect(await digestOf(`${image}:latest`)).toBe(run.outputs.digest);
  });
});
