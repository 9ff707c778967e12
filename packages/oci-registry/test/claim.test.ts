import { claimTags, type Skopeo, SkopeoError } from '@golden-image/oci-registry';
import { describe, expect, test } from '@jest/globals';

const IMAGE = 'localhost:5000/app';
const OURS = `sha256:${'a'.repeat(64)}`;
const THEIRS = `sha256:${'b'.repeat(64)}`;

/** A registry of tags in memory behind the two Skopeo calls claimTags makes, on a virtual clock. */
function fakeSkopeo(tags: Record<string, string>, writeFaults: string[] = [], writeDelayMs = 0) {
  const calls: string[] = [];
  const clock = { ms: 0 };
  const skopeo = {
    retries: 0,
    retryPolicy: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10, maxTotalMs: 10_000 },
    digestOf: async (ref: string) => {
      calls.push(`read ${ref}`);
      return tags[ref.split(':').at(-1) ?? ''];
    },
  } as unknown as Skopeo;
  const write = async (tag: string) => {
    calls.push(`write ${tag}`);
    clock.ms += writeDelayMs;
    const fault = writeFaults.shift();
    if (fault === 'landed-503') tags[tag] = OURS;
    if (fault) throw new SkopeoError(`write failed: ${fault}`, { transient: true, reason: fault });
    tags[tag] = OURS;
  };
  return { skopeo, write, calls, clock };
}

function claim(
  fake: ReturnType<typeof fakeSkopeo>,
  tags: string[],
  settleMs = 5,
  known?: ReadonlyMap<string, string | undefined>,
) {
  const slept: number[] = [];
  const logs: string[] = [];
  const run = claimTags(fake.skopeo, IMAGE, OURS, tags, {
    allowOverwrite: false,
    write: fake.write,
    settleMs,
    known,
    log: (message) => logs.push(message),
    sleep: async (ms) => {
      slept.push(ms);
      fake.clock.ms += ms;
    },
    now: () => fake.clock.ms,
  });
  return { run, slept, logs };
}

describe('claimTags', () => {
  test('a free tag is re-checked, written, then the run waits the settle time before anyone reads it back', async () => {
    const fake = fakeSkopeo({});
    const { run, slept } = claim(fake, ['v1', 'v2']);
    expect(await run).toMatchObject({ claimed: ['v1', 'v2'] });
    expect(fake.calls).toEqual([`read ${IMAGE}:v1`, 'write v1', `read ${IMAGE}:v2`, 'write v2']);
    expect(slept).toEqual([5]);
  });

  test('deferSettle: no wait here; the window ends settleMs after the last write, for the caller to wait out', async () => {
    const fake = fakeSkopeo({});
    const slept: number[] = [];
    const result = await claimTags(fake.skopeo, IMAGE, OURS, ['v1'], {
      allowOverwrite: false,
      write: fake.write,
      settleMs: 1500,
      log: () => {},
      sleep: async (ms) => {
        slept.push(ms);
      },
      now: () => fake.clock.ms,
      deferSettle: true,
    });
    expect(result).toEqual({ claimed: ['v1'], settleUntil: 1500 });
    expect(slept).toEqual([]);
    expect(fake.calls).toEqual([`read ${IMAGE}:v1`, 'write v1']);
  });

  test('with the guard off, the look-up the caller just made stands in for the first re-check', async () => {
    const fake = fakeSkopeo({ v2: OURS });
    const known = new Map([
      ['v1', undefined],
      ['v2', OURS],
    ]);
    expect(await claim(fake, ['v1', 'v2', 'v3'], 0, known).run).toMatchObject({ claimed: ['v1', 'v3'] });
    expect(fake.calls).toEqual(['write v1', `read ${IMAGE}:v3`, 'write v3']);
    // With the guard on it does not: Fischer's protocol needs the re-check right before the write.
    const guarded = fakeSkopeo({});
    await claim(guarded, ['v1'], 5, new Map([['v1', undefined]])).run;
    expect(guarded.calls).toEqual([`read ${IMAGE}:v1`, 'write v1']);
  });

  test('a transient failure after a known first attempt reads the tag again before retrying', async () => {
    const fake = fakeSkopeo({}, ['503 Service Unavailable']);
    await claim(fake, ['v1'], 0, new Map([['v1', undefined]])).run;
    expect(fake.calls).toEqual(['write v1', `read ${IMAGE}:v1`, 'write v1']);
  });

  test('a tag already ours (a re-run) is not written and needs no settle', async () => {
    const fake = fakeSkopeo({ v1: OURS });
    const { run, slept } = claim(fake, ['v1']);
    expect(await run).toMatchObject({ claimed: [] });
    expect(fake.calls).toEqual([`read ${IMAGE}:v1`]);
    expect(slept).toEqual([]);
  });

  test('a tag taken by another digest at the re-check is refused without a write, naming that digest', async () => {
    const fake = fakeSkopeo({ v1: THEIRS });
    await expect(claim(fake, ['v1']).run).rejects.toThrow(
      `tag ${IMAGE}:v1 was taken by digest ${THEIRS} while this run was pushing ${OURS}. This run's image is in the registry, untagged, as ${IMAGE}@${OURS}`,
    );
    expect(fake.calls).toEqual([`read ${IMAGE}:v1`]);
  });

  test('a transient write failure re-checks the tag before writing again, and is counted', async () => {
    const fake = fakeSkopeo({}, ['503 Service Unavailable']);
    const { run, logs } = claim(fake, ['v1']);
    expect(await run).toMatchObject({ claimed: ['v1'] });
    expect(fake.calls).toEqual([`read ${IMAGE}:v1`, 'write v1', `read ${IMAGE}:v1`, 'write v1']);
    expect(fake.skopeo.retries).toBe(1);
    expect(logs[0]).toMatch(/^Claiming localhost:5000\/app:v1: 503 Service Unavailable; re-checking the tag/);
  });

  test('a write that landed although its answer was lost counts as our claim', async () => {
    const fake = fakeSkopeo({}, ['landed-503']);
    const { run, slept } = claim(fake, ['v1']);
    expect(await run).toMatchObject({ claimed: ['v1'] });
    expect(fake.calls).toEqual([`read ${IMAGE}:v1`, 'write v1', `read ${IMAGE}:v1`]);
    expect(slept.at(-1)).toBe(5);
  });

  test('a write that took longer than the settle time fails: a concurrent run could have trusted its own write', async () => {
    const fake = fakeSkopeo({}, [], 40);
    await expect(claim(fake, ['v1'], 20).run).rejects.toThrow(
      /^Writing the new tag localhost:5000\/app:v1 took \d+ ms from the check that found it free, longer than the 20 ms/,
    );
  });

  test('the attempts are bounded', async () => {
    const fake = fakeSkopeo({}, ['500', '500', '500', '500', '500']);
    await expect(claim(fake, ['v1']).run).rejects.toThrow('write failed: 500');
    expect(fake.calls.filter((call) => call.startsWith('write'))).toHaveLength(4);
  });
});
