// docker/metadata-action's outputs as the root action's inputs, and several registries in one run, through the
// bundled root action against real registries (real buildah and skopeo; cosign and the scanners are the doubles).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type TestRegistry, tempDir, toolAvailable } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { annotationsOf, commit, digestOf, type Key, keyPair, rootAction, serveDoubleDb } from './rerun-harness.js';

const ready = toolAvailable('buildah') && toolAvailable('skopeo');
let open: TestRegistry;
let locked: TestRegistry;
let key: Key;
let authFile: string;
beforeAll(async () => {
  [open, locked] = await Promise.all([startRegistry(), startRegistry({ auth: { username: 'ci', password: 'pw-2' } })]);
  await serveDoubleDb(open);
  key = keyPair();
  // What docker/login-action leaves for the second registry; skopeo reads it through REGISTRY_AUTH_FILE.
  authFile = join(tempDir('golden-image-auth-'), 'auth.json');
  writeFileSync(
    authFile,
    JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from('ci:pw-2').toString('base64') } } }),
  );
});
afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
});

/** docker/metadata-action v5's outputs for `type=ref,event=branch`, `type=sha`, `type=semver` (1.2.3 and 1.2). */
function metadata(images: string[], sha: string, branch = 'main') {
  const tags = [branch, `sha-${sha.slice(0, 7)}`, '1.2.3', '1.2'];
  const labels = [
    'org.opencontainers.image.title=app',
    'org.opencontainers.image.licenses=',
    `org.opencontainers.image.revision=${sha}`,
    'org.opencontainers.image.source=https://github.com/my-org/app',
    `org.opencontainers.image.version=${branch}`,
  ];
  return {
    tags: images.flatMap((image) => tags.map((tag) => `${image}:${tag}`)).join('\n'),
    labels: labels.join('\n'),
    annotations: labels.map((label) => `manifest:${label}`).join('\n'),
  };
}

describe('metadata-action outputs and two registries (the root action, bundled)', () => {
  if (!ready) {
    test.skip('buildah or skopeo is not installed here', () => {});
    return;
  }

  test('the same bytes to both registries under the split tags; labels and annotations in the image; the next commit moves main', async () => {
    const images = [`${open.host}/meta/app`, `${locked.host}/meta/app`];
    const state = tempDir('golden-image-cosign-state-');
    const env = { REGISTRY_AUTH_FILE: authFile };
    const sha = commit('8a');
    const run = await rootAction({ image: images.join('\n'), ...metadata(images, sha) }, key, { sha, state, env });
    expect(run.exitCode).toBe(0);
    const digest = run.outputs.digest as string;
    for (const image of images) {
      for (const tag of ['sha-8a8a8a8', '1.2.3', 'main', '1.2'])
        expect(await digestOf(`${image}:${tag}`, authFile)).toBe(digest);
      // No latest: metadata-action did not ask for it, and the rolling defaults apply only when no tags are given.
      expect(await digestOf(`${image}:latest`, authFile)).toBeUndefined();
    }
    // Only the immutable ones went through push-layout's claim; the rolling ones were moved by promote-tags.
    expect(run.log).toContain(`${images[1]}:1.2.3: new`);
    expect(run.log).not.toContain(`${images[1]}:main: new`);
    expect(run.outputs['image-ref']).toBe(images.map((image) => `${image}@${digest}`).join('\n'));
    // metadata-action's annotations are manifest-level; the commit and repository are on the index as well.
    expect(await annotationsOf(`${images[0]}@${digest}`)).toEqual({
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.source': 'https://github.com/my-org/app',
    });
    const platform = JSON.parse(run.outputs.platforms as string)['linux/amd64'] as string;
    expect(await annotationsOf(`${images[0]}@${platform}`)).toMatchObject({
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.title': 'app',
      'org.opencontainers.image.licenses': '',
      'org.opencontainers.image.source': 'https://github.com/my-org/app',
    });

    // The next commit on main: main and 1.2 are rolling, so they move; its own sha tag is new.
    const next = commit('9b');
    const later = await rootAction({ image: images.join('\n'), ...metadata(images, next) }, key, {
      sha: next,
      state,
      env,
    });
    // 1.2.3 is immutable and already holds the other commit's build: a version released twice is refused.
    expect(later.exitCode).toBe(1);
    expect(later.log).toContain(`:1.2.3 already points at ${digest}: it is a build of commit ${sha}`);
    const tagsWithoutVersion = metadata(images, next)
      .tags.split('\n')
      .filter((ref) => !ref.endsWith(':1.2.3'))
      .join('\n');
    const moved = await rootAction(
      { image: images.join('\n'), ...metadata(images, next), tags: tagsWithoutVersion },
      key,
      { sha: next, state, env },
    );
    expect(moved.exitCode).toBe(0);
    for (const image of images) {
      expect(await digestOf(`${image}:main`, authFile)).toBe(moved.outputs.digest);
      expect(await digestOf(`${image}:sha-9b9b9b9`, authFile)).toBe(moved.outputs.digest);
      expect(await digestOf(`${image}:sha-8a8a8a8`, authFile)).toBe(digest);
    }
  });

  test('one registry refusing the push fails the run with nothing promoted or tagged anywhere', async () => {
    const images = [`${open.host}/meta/half`, `${locked.host}/meta/half`];
    const state = tempDir('golden-image-cosign-state-');
    const sha = commit('ac');
    // No login for the second registry this time.
    const run = await rootAction({ image: images.join('\n'), 'rolling-tags': 'latest' }, key, {
      sha,
      state,
    });
    expect(run.exitCode).toBe(1);
    expect(run.log).toContain('log in to it first');
    expect(run.log).not.toContain('━━ sign-digest');
    for (const tag of ['latest', 'sha-acacaca']) {
      expect(await digestOf(`${images[0]}:${tag}`)).toBeUndefined();
      expect(await digestOf(`${images[1]}:${tag}`, authFile)).toBeUndefined();
    }
  });
});
