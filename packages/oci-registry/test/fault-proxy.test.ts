import { startFaultProxy, startRegistry, type TestRegistry } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

async function statuses(port: number, count: number): Promise<(number | 'dropped')[]> {
  const out: (number | 'dropped')[] = [];
  for (let i = 0; i < count; i++) {
    try {
      out.push((await fetch(`http://127.0.0.1:${port}/v2/`)).status);
    } catch {
      out.push('dropped');
    }
  }
  return out;
}

describe('the fault-injecting proxy', () => {
  test('forwards to the registry and rewrites only the absolute Location of an upload to point at itself', async () => {
    const proxy = await startFaultProxy({ targetPort: registry.port });
    try {
      const direct = await fetch(`http://127.0.0.1:${registry.port}/v2/p/loc/blobs/uploads/`, { method: 'POST' });
      expect(direct.headers.get('location')).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${registry.port}/v2/p/loc/`));
      const proxied = await fetch(`http://127.0.0.1:${proxy.port}/v2/p/loc/blobs/uploads/`, { method: 'POST' });
      expect(proxied.status).toBe(202);
      const location = proxied.headers.get('location') ?? '';
      expect(location).toMatch(
        new RegExp(`^http://localhost:${proxy.port}/v2/p/loc/blobs/uploads/[0-9a-f-]+\\?_state=`),
      );
      expect(proxied.headers.get('docker-upload-uuid')).toBe(location.split('/uploads/')[1]?.split('?')[0]);
      expect(proxy.injected()).toBe(0);
      expect(proxy.requests).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  test('down answers 503 (or drops) every request until up; faults are counted per kind', async () => {
    const proxy = await startFaultProxy({ targetPort: registry.port });
    try {
      proxy.down();
      expect(await statuses(proxy.port, 2)).toEqual([503, 503]);
      proxy.down({ drop: true });
      expect(await statuses(proxy.port, 1)).toEqual(['dropped']);
      proxy.up();
      expect(await statuses(proxy.port, 1)).toEqual([200]);
      expect(proxy.faults).toEqual({ '500': 0, '502': 0, '503': 2, '429': 0, drop: 1 });
    } finally {
      await proxy.close();
    }
  });

  test('429 carries Retry-After; the mix picks only kinds with weight', async () => {
    const proxy = await startFaultProxy({
      targetPort: registry.port,
      rate: 1,
      mix: { '429': 1, '500': 0, '502': 0, '503': 0, drop: 0 },
    });
    try {
      const answer = await fetch(`http://127.0.0.1:${proxy.port}/v2/`);
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(proxy.faults['429']).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  test('the same seed fails the same requests at about the chosen rate; another seed differs', async () => {
    const run = async (seed: number) => {
      const proxy = await startFaultProxy({ targetPort: registry.port, rate: 0.2, seed, mix: { drop: 0, '429': 0 } });
      try {
        return await statuses(proxy.port, 200);
      } finally {
        await proxy.close();
      }
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const failed = a.filter((status) => status !== 200).length;
    expect(failed).toBeGreaterThan(20);
    expect(failed).toBeLessThan(60);
    expect(new Set(a)).toEqual(new Set([200, 500, 502, 503]));
  });
});
