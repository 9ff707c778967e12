// Re-runs and nightlies of one commit, through the bundled root action against a real registry (real buildah and
// skopeo; cosign and the scanners are the doubles). A rebuild of the same commit gets a new digest (here: another
// SOURCE_DATE_EPOCH, as a nightly gets new base images or BuildKit a new provenance id).
import { startRegistry, type TestRegistry, tempDir, toolAvailable } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { annotationsOf, commit, digestOf, type Key, keyPair, rootAction, today } from './rerun-harness.js';

const ready = toolAvailable('buildah') && toolAvailable('skopeo');
let registry: TestRegistry;
let key: Key;
beforeAll(async () => {
  registry = await startRegistry();
  key = keyPair();
});
afterAll(async () => {
  await registry?.stop();
});

const uploads = (repository: string) => registry.requests(new RegExp(`"POST /v2/${repository}/blobs/uploads/`)).length;

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

  test('a re-run after a failure at signing signs and promotes the bytes already pushed: no build, no second push', async () => {
    const image = `${registry.host}/rerun/resume`;
    const sha = commit('4d');
    const state = tempDir('golden-image-cosign-state-');
    const failed = await rootAction({ image }, key, { sha, epoch: 0, state, cosignPassword: 'wrong' });
    expect(failed.exitCode).toBe(1);
    expect(failed.log).toMatch(/decrypt/);
    const pushed = await digestOf(`${image}:sha-4d4d4d4`);
    expect(pushed).toMatch(/^sha256:/);
    expect(await digestOf(`${image}:latest`)).toBeUndefined();
    const before = uploads('rerun/resume');

    // "Re-run failed jobs": attempt 2 of the same run. A build now would give another digest (another epoch).
    const rerun = await rootAction({ image }, key, { sha, epoch: 999, attempt: 2, state });
    expect(rerun.exitCode).toBe(0);
    expect(rerun.outputs.digest).toBe(pushed);
    expect(rerun.log).not.toContain('━━ build-oci');
    expect(rerun.log).toContain('Resuming:');
    expect(uploads('rerun/resume')).toBe(before);
    expect(await digestOf(`${image}:latest`)).toBe(pushed);
    expect(rerun.summary).toContain("Resumed an earlier attempt's release instead of building again");
  });

  test('a re-run attempt never goes back to an older build: a later build of the commit holds latest, so it builds again', async () => {
    const image = `${registry.host}/rerun/later`;
    const sha = commit('6a');
    const state = tempDir('golden-image-cosign-state-');
    const first = await rootAction({ image }, key, { sha, epoch: 0, state });
    const nightly = await rootAction({ image }, key, { sha, epoch: 100, state });
    expect([first.exitCode, nightly.exitCode]).toEqual([0, 0]);
    // sha-6a6a6a6 holds the first build, latest the nightly's: resuming the first would move latest back.
    const again = await rootAction({ image }, key, { sha, epoch: 200, attempt: 2, state });
    expect(again.exitCode).toBe(0);
    expect(again.log).toContain(
      `Not resuming: ${image}:latest already points at ${nightly.outputs.digest}, another build of this commit released after ${first.outputs.digest}`,
    );
    expect(await digestOf(`${image}:latest`)).toBe(again.outputs.digest);
    expect(again.outputs.digest).not.toBe(first.outputs.digest);
  });

  test('a re-run attempt of a release that finished builds again, and says why', async () => {
    const image = `${registry.host}/rerun/finished`;
    const sha = commit('5e');
    const state = tempDir('golden-image-cosign-state-');
    const first = await rootAction({ image }, key, { sha, state });
    expect(first.exitCode).toBe(0);
    const again = await rootAction({ image }, key, { sha, epoch: 7, attempt: 2, state });
    expect(again.exitCode).toBe(0);
    expect(again.log).toContain('Not resuming: every rolling tag already points at');
    expect(again.outputs.digest).not.toBe(first.outputs.digest);
    expect(await digestOf(`${image}:latest`)).toBe(again.outputs.digest);
    expect(await digestOf(`${image}:sha-5e5e5e5`)).toBe(first.outputs.digest);
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
