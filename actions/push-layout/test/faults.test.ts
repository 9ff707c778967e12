import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RETRY_POLICY, Skopeo } from '@golden-image/oci-registry';
import {
  type BuiltLayout,
  buildLayout,
  createTestContext,
  type FaultProxy,
  freePort,
  type Recorded,
  RecordingRunner,
  startFaultProxy,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { main } from '../main.js';

let registry: TestRegistry;
let proxy: FaultProxy | undefined;
beforeAll(async () => {
  registry = await startRegistry();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await registry?.stop();
});

/** Reads straight from the registry, never through the proxy. */
const ATTEMPTS = DEFAULT_RETRY_POLICY.attempts;
const direct = () => new Skopeo(new RecordingRunner(), { tlsVerify: false });

function twoPlatforms(seed: string): Promise<BuiltLayout> {
  return buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'], layerSizes: [40_000], seed });
}

/** Faulty-registry tests wait a quarter of the real backoff (Retry-After still honoured): same attempts, shorter test. */
const QUICK = { ...process.env, GOLDEN_IMAGE_RETRY_DELAY_SCALE: '0.25' };

function push(layout: BuiltLayout, image: string, tags: string, env?: NodeJS.ProcessEnv) {
  const { ctx, recorded } = createTestContext(
    { 'layout-path': layout.path, digest: layout.digest, image, tags, 'tls-verify': 'false' },
    { env },
  );
  return { run: () => main(ctx), recorded };
}

/** The retry count the job summary reports, checked against the log lines that name each retry. */
function retries(recorded: Recorded): number {
  const count = Number(/(\d+) retries of transient registry errors/.exec(recorded.summary)?.[1] ?? Number.NaN);
  const lines = recorded.logs.filter((line) => /^Retrying: |^Claiming .*: .*retrying/.test(line));
  expect(lines).toHaveLength(count);
  return count;
}

const tagsDir = (repository: string) =>
  join(registry.storage, 'docker/registry/v2/repositories', repository, '_manifests/tags');

describe('push-layout through a flaky registry', () => {
  test('at a 5% fault rate a two-platform layout with attestations is pushed and read back, for several seeds', async () => {
    const layout = await twoPlatforms('flaky');
    let injected = 0;
    let retried = 0;
    for (const seed of [11, 12, 13]) {
      proxy = await startFaultProxy({ targetPort: registry.port, rate: 0.05, seed });
      const repository = `faults/push-${seed}`;
      const { run, recorded } = push(layout, `${proxy.host}/${repository}`, 'sha-1a2b3c4,v1.0.0', QUICK);
      await run();
      expect(recorded.outputs.digest).toBe(layout.digest);
      for (const ref of [`@${layout.digest}`, ':sha-1a2b3c4', ':v1.0.0'])
        expect(await direct().digestOf(`${registry.host}/${repository}${ref}`)).toBe(layout.digest);
      for (const child of [...Object.values(layout.platforms), ...layout.attestations])
        expect(await direct().digestOf(`${registry.host}/${repository}@${child}`)).toBe(child);
      injected += proxy.injected();
      retried += retries(recorded);
      await proxy.close();
      proxy = undefined;
    }
    expect(injected).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
  });

  test('registry down: a clear error after bounded retries, and no tag exists in the registry', async () => {
    const layout = await twoPlatforms('down');
    proxy = await startFaultProxy({ targetPort: registry.port });
    proxy.down();
    const { run, recorded } = push(layout, `${proxy.host}/faults/down`, 'sha-down', QUICK);
    await expect(run()).rejects.toThrow(
      new RegExp(
        `^Reading localhost:\\d+/faults/down:sha-down from the registry failed: the registry localhost:\\d+ kept answering 503 Service Unavailable \\(its own trouble, or a proxy's in front of it\\) through ${ATTEMPTS} attempts over \\d+\\.\\d s\\. ` +
          'Check that the image names the right registry host and port \\(localhost:\\d+\\), that the registry is up.*' +
          "skopeo's last error \\(exit 1\\): .*503 \\(Service Unavailable\\)",
      ),
    );
    expect(recorded.logs.filter((line) => line.startsWith('Retrying: '))).toHaveLength(ATTEMPTS - 1);
    expect(await direct().digestOf(`${registry.host}/faults/down:sha-down`)).toBeUndefined();
    expect(existsSync(tagsDir('faults/down'))).toBe(false);
  });

  test('nothing listening at the registry address: it could not be reached, after how many attempts, what to check', async () => {
    const layout = await twoPlatforms('refused');
    const port = await freePort();
    const { run } = push(layout, `127.0.0.1:${port}/faults/nobody`, 'sha-1a2b3c4', QUICK);
    const error = (await run().catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(
      new RegExp(
        `^Reading 127\\.0\\.0\\.1:${port}/faults/nobody:sha-1a2b3c4 from the registry failed: the registry 127\\.0\\.0\\.1:${port} could not be reached \\(connection refused\\) through ${ATTEMPTS} attempts over `,
      ),
    );
    expect(error.message).toContain(
      "this runner can reach it (HTTPS_PROXY and NO_PROXY, a firewall, a self-hosted runner's network)",
    );
    expect(error.message).toMatch(/skopeo's last error \(exit 1\): .*connection refused$/);
  });

  test('a push cut off after 3 blob uploads fails with no tag; the re-run uploads only the missing blobs', async () => {
    const layout = await twoPlatforms('interrupted');
    const repository = 'faults/interrupted';
    proxy = await startFaultProxy({ targetPort: registry.port });
    let finished = 0;
    const cut = proxy;
    // A blob upload ends with PUT .../blobs/uploads/<id>?digest=...; after the third, the connection goes away.
    proxy.intercept((method, url) => {
      if (finished >= 3) return 'drop';
      if (method === 'PUT' && /\/blobs\/uploads\/.*digest=/.test(url)) finished++;
      return undefined;
    });
    const image = `${proxy.host}/${repository}`;
    const first = push(layout, image, 'sha-cut', QUICK);
    await expect(first.run()).rejects.toThrow(
      new RegExp(
        `Pushing the layout to .* failed: the registry localhost:\\d+ could not be reached \\(connection dropped \\(EOF\\)\\) through ${ATTEMPTS} attempts.*skopeo's last error \\(exit 1\\): .*EOF`,
      ),
    );
    expect(cut.faults.drop).toBeGreaterThan(0);
    expect(await direct().digestOf(`${registry.host}/${repository}:sha-cut`)).toBeUndefined();
    const stored = (status: number) =>
      registry.requests(new RegExp(`"PUT /v2/${repository}/blobs/uploads/[^"]*digest=[^"]*" ${status} `));
    expect(stored(201)).toHaveLength(3);

    proxy.intercept(undefined);
    const again = push(layout, image, 'sha-cut');
    await again.run();
    expect(again.recorded.outputs.digest).toBe(layout.digest);
    // 2 platforms x (layer + config) + 2 attestations x (layer + config) = 8 blobs, 3 of them already there.
    expect(stored(201)).toHaveLength(8);
    expect(await direct().digestOf(`${registry.host}/${repository}:sha-cut`)).toBe(layout.digest);
  });
});

describe('two runs pushing different layouts to the same new immutable tag at once', () => {
  test('exactly one wins each time; the loser fails naming the digest that took the tag', async () => {
    const a = await twoPlatforms('race-a');
    const b = await twoPlatforms('race-b');
    const image = `${registry.host}/faults/race`;
    for (let round = 1; round <= 10; round++) {
      const tag = `v${round}`;
      const runs = [push(a, image, tag), push(b, image, tag)];
      const results = await Promise.allSettled(runs.map((r) => r.run()));
      const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0] === 0 ? a : b;
      const loser = winners[0] === 0 ? b : a;
      const failed = results[1 - (winners[0] ?? 0)] as PromiseRejectedResult;
      // Usually the loser gets past the first check and learns at the re-check or the read-back; if the winner was
      // already done before the loser's first check, the loser is refused there. Either way it names the winner.
      expect((failed.reason as Error).message).toMatch(
        new RegExp(
          `tag ${image}:${tag} was taken by digest ${winner.digest} while this run was pushing ${loser.digest}|` +
            `Refusing to move immutable tags:\n${image}:${tag} already points at ${winner.digest}`,
        ),
      );
      expect(await direct().digestOf(`${image}:${tag}`)).toBe(winner.digest);
      // The loser's image is in the registry, untagged, by digest.
      expect(await direct().digestOf(`${image}@${loser.digest}`)).toBe(loser.digest);
    }
  });
});
