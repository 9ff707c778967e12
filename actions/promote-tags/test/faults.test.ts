import { DEFAULT_RETRY_POLICY, Skopeo } from '@golden-image/oci-registry';
import {
  type BuiltLayout,
  buildLayout,
  createTestContext,
  type FaultProxy,
  RecordingRunner,
  startFaultProxy,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { main } from '../main.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const TAGS = ['latest', 'nightly', 'nightly-20261125'];

let registry: TestRegistry;
let proxy: FaultProxy | undefined;
let layout: BuiltLayout;
let older: BuiltLayout;
beforeAll(async () => {
  registry = await startRegistry();
  layout = await buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'], layerSizes: [40_000] });
  older = await buildLayout(tempDir(), {
    platforms: ['linux/amd64', 'linux/arm64'],
    layerSizes: [40_000],
    seed: 'old',
  });
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await registry?.stop();
});

/** Reads straight from the registry, never through the proxy. */
const direct = (ref: string) => new Skopeo(new RecordingRunner(), { tlsVerify: false }).digestOf(ref);

/** Pushes a layout straight to the registry (no proxy, no faults) under each tag: test setup only. */
async function pushDirect(built: BuiltLayout, repository: string, tags: string) {
  const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
  for (const tag of tags.split(',')) await skopeo.pushLayout(built.path, `${registry.host}/${repository}`, tag);
}

/** Faulty-registry tests wait a quarter of the real backoff (Retry-After still honoured): same attempts, shorter test. */
const QUICK = { ...process.env, GOLDEN_IMAGE_RETRY_DELAY_SCALE: '0.25' };

function promote(image: string, digest: string, env?: NodeJS.ProcessEnv) {
  const { ctx, recorded } = createTestContext(
    {
      image,
      digest,
      tags: 'latest,nightly,nightly-{date}',
      engine: 'skopeo',
      'require-signature': 'false',
      'tls-verify': 'false',
    },
    { env },
  );
  return { run: () => main(ctx, NOW), recorded };
}

describe('promote-tags through a flaky registry', () => {
  test('at a 5% fault rate three tags move and read back, for several seeds; retries are counted', async () => {
    let injected = 0;
    let retried = 0;
    for (const seed of [21, 22, 23]) {
      const repository = `faults/promote-${seed}`;
      await pushDirect(layout, repository, `sha-${seed}`);
      proxy = await startFaultProxy({ targetPort: registry.port, rate: 0.05, seed });
      const { run, recorded } = promote(`${proxy.host}/${repository}`, layout.digest, QUICK);
      await run();
      for (const tag of TAGS) expect(await direct(`${registry.host}/${repository}:${tag}`)).toBe(layout.digest);
      const count = Number(/(\d+) retries of transient registry errors/.exec(recorded.summary)?.[1]);
      expect(recorded.logs.filter((line) => line.startsWith('Retrying: '))).toHaveLength(count);
      injected += proxy.injected();
      retried += count;
      await proxy.close();
      proxy = undefined;
    }
    expect(injected).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
  });

  test('the registry goes down after the existence check and the first tag: the error lists what moved and what did not', async () => {
    const repository = 'faults/promote-down';
    // The three tags point at an older image first, so "did not move" is visible in the registry.
    await pushDirect(older, repository, TAGS.join(','));
    await pushDirect(layout, repository, 'sha-new');
    proxy = await startFaultProxy({ targetPort: registry.port });
    const gate = proxy;
    let tagWrites = 0;
    // A tag write ends with the index PUT to /manifests/<tag>; after the first one, the registry is down.
    proxy.intercept((method, url) => {
      if (tagWrites >= 1) return '503';
      if (method === 'PUT' && /\/manifests\/[^/]+$/.test(url) && !url.includes('sha256:')) tagWrites++;
      return undefined;
    });
    const image = `${proxy.host}/${repository}`;
    const { run } = promote(image, layout.digest, QUICK);
    const error = await run().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      new RegExp(
        `^Tagging ${image}@${layout.digest} as nightly failed: the registry localhost:\\d+ kept answering 503 Service Unavailable .* through ${DEFAULT_RETRY_POLICY.attempts} attempts over .*skopeo's last error \\(exit 1\\): .*503`,
      ),
    );
    expect(error?.message).toContain(`\nMoved to ${layout.digest}: ${image}:latest.\n`);
    expect(error?.message).toContain(`Not moved: ${image}:nightly, ${image}:nightly-20261125 (`);
    expect(gate.faults['503']).toBeGreaterThan(0);
    expect(await direct(`${registry.host}/${repository}:latest`)).toBe(layout.digest);
    expect(await direct(`${registry.host}/${repository}:nightly`)).toBe(older.digest);
    expect(await direct(`${registry.host}/${repository}:nightly-20261125`)).toBe(older.digest);
  });

  test('registry down from the start: no tag moves', async () => {
    const repository = 'faults/promote-refused';
    await pushDirect(older, repository, 'latest');
    await pushDirect(layout, repository, 'sha-new');
    proxy = await startFaultProxy({ targetPort: registry.port });
    proxy.down({ drop: true });
    const image = `${proxy.host}/${repository}`;
    await expect(promote(image, layout.digest, QUICK).run()).rejects.toThrow(
      new RegExp(
        `Reading ${image}@${layout.digest} from the registry failed: the registry localhost:\\d+ could not be reached \\(connection dropped \\(EOF\\)\\).*EOF`,
      ),
    );
    expect(await direct(`${registry.host}/${repository}:latest`)).toBe(older.digest);
  });
});
