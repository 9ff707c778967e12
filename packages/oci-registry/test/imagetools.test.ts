import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, RunResult, ToolRunner } from '@golden-image/kit';
import { sha256Digest } from '@golden-image/oci';
import { Imagetools } from '@golden-image/oci-registry';
import { describe, expect, test } from '@jest/globals';

/** Answers each docker call from a script of results, recording argv. */
class ScriptedRunner implements ToolRunner {
  readonly calls: string[][] = [];
  constructor(private readonly results: RunResult[]) {}
  async run(_tool: string, args: readonly string[], _options?: RunOptions): Promise<RunResult> {
    this.calls.push([...args]);
    const next = this.results.shift();
    if (!next) throw new Error('no scripted result left');
    return next;
  }
}

const fail = (stderr: string): RunResult => ({ exitCode: 1, stdout: Buffer.alloc(0), stderr });
const ok = (stdout = ''): RunResult => ({ exitCode: 0, stdout: Buffer.from(stdout), stderr: '' });
const quick = { baseDelayMs: 1, maxDelayMs: 2 };

describe('imagetools retries transient registry errors like skopeo does', () => {
  test('a 503 on create is retried, counted and logged; the tag is then written', async () => {
    const runner = new ScriptedRunner([
      fail('ERROR: failed to push: unexpected status: 503 Service Unavailable'),
      ok(),
    ]);
    const logs: string[] = [];
    const engine = new Imagetools(runner, { tempDir: '/tmp', retry: quick, onRetry: (m) => logs.push(m) });
    await engine.tagDigest('ghcr.io/o/app', `sha256:${'a'.repeat(64)}`, 'latest');
    expect(runner.calls).toHaveLength(2);
    expect(engine.retries).toBe(1);
    expect(logs[0]).toMatch(/^Tagging latest: 503 Service Unavailable/);
  });

  test('inspect: not found is an answer, not a retry; auth refusal is not retried', async () => {
    const notFound = new ScriptedRunner([fail('ERROR: ghcr.io/o/app:x: not found')]);
    expect(
      await new Imagetools(notFound, { tempDir: '/tmp', retry: quick }).digestOf('ghcr.io/o/app:x'),
    ).toBeUndefined();
    expect(notFound.calls).toHaveLength(1);
    const denied = new ScriptedRunner([fail('ERROR: unexpected status: 401 Unauthorized')]);
    await expect(new Imagetools(denied, { tempDir: '/tmp', retry: quick }).digestOf('ghcr.io/o/app:x')).rejects.toThrow(
      /Reading ghcr.io\/o\/app:x with imagetools failed/,
    );
    expect(denied.calls).toHaveLength(1);
  });

  test('inspect after a dropped connection returns the digest of the raw bytes', async () => {
    const raw = '{"schemaVersion":2}';
    const runner = new ScriptedRunner([fail('ERROR: read tcp: connection reset by peer'), ok(raw)]);
    const engine = new Imagetools(runner, { tempDir: '/tmp', retry: quick });
    expect(await engine.digestOf('ghcr.io/o/app:latest')).toBe(sha256Digest(raw));
    expect(engine.retries).toBe(1);
  });
});

describe('imagetools and the registry password', () => {
  test('the private docker config holding the credentials exists only while a docker command runs', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'golden-image-imagetools-'));
    const authFile = join(temp, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { 'ghcr.io': { auth: 'dXNlcjpzZWNyZXQ=' } } }));
    const seen: string[] = [];
    const runner: ToolRunner = {
      run: async (_tool, _args, options) => {
        const dir = options?.env?.DOCKER_CONFIG as string;
        seen.push(readFileSync(join(dir, 'config.json'), 'utf8'));
        return ok();
      },
    };
    const engine = new Imagetools(runner, { tempDir: temp, authFile, retry: quick });
    await engine.tagDigest('ghcr.io/o/app', `sha256:${'a'.repeat(64)}`, 'latest');
    await engine.tagDigest('ghcr.io/o/app', `sha256:${'a'.repeat(64)}`, 'stable');
    expect(seen).toHaveLength(2);
    expect(seen[0]).toContain('dXNlcjpzZWNyZXQ=');
    rmSync(authFile);
    expect(readdirSync(temp)).toEqual([]);
  });
});
