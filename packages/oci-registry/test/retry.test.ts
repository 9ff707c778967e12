import {
  backoffMs,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  fatalLine,
  retryPolicyFrom,
  withRetries,
} from '@golden-image/oci-registry';
import { describe, expect, test } from '@jest/globals';

const fatal = (msg: string) => `time="2026-11-25T12:44:09Z" level=fatal msg="${msg.replace(/"/g, '\\"')}"\n`;

// Real skopeo 1.9.3 messages, recorded through the fault proxy (see the comment at the top of retry.ts).
const TRANSIENT: [string, string][] = [
  [
    'copying image 1/4 from manifest list: writing blob: failed to read from destination repository m/x: 503 (Service Unavailable)',
    '503 Service Unavailable',
  ],
  [
    'Error parsing image name "docker://localhost:45801/m/x@sha256:1368c5439bcbca97b9c4db587e859aaefd2372a0c8c1ba0700f0692e79172647": reading manifest sha256:1368c5439bcbca97b9c4db587e859aaefd2372a0c8c1ba0700f0692e79172647 in localhost:45801/m/x: received unexpected HTTP status: 500 Internal Server Error',
    '500 Internal Server Error',
  ],
  [
    'copying image 1/4 from manifest list: trying to reuse blob sha256:5aca9dfee6c16070ef6bda6363236bad5dc2ce36995783464dc06f6082b4686b at destination: pinging container registry localhost:44421: invalid status code from registry 502 (Bad Gateway)',
    '502 Bad Gateway',
  ],
  [
    'copying image 1/4 from manifest list: writing blob: Head "http://localhost:46711/v2/m/x/blobs/sha256:5aca9dfee6c16070ef6bda6363236bad5dc2ce36995783464dc06f6082b4686b": EOF',
    'connection dropped (EOF)',
  ],
  [
    'copying image 1/4 from manifest list: writing blob: Patch "http://localhost:38047/v2/s/x10/blobs/uploads/d5cc?_state=B6V8": read tcp 127.0.0.1:58280->127.0.0.1:38047: read: connection reset by peer',
    'connection reset',
  ],
  [
    'Error parsing image name "docker://localhost:1/s/down:t": pinging container registry localhost:1: Get "http://localhost:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
    'connection refused',
  ],
  ['too many requests to registry', '429 Too Many Requests'],
  [
    'Manifest list must be converted to type "application/vnd.docker.distribution.manifest.list.v2+json" to be written to destination, but we cannot modify it: "Instructed to preserve digests"',
    'index upload failed (cause hidden by skopeo)',
  ],
];

const PERMANENT: [string, string][] = [
  [
    'Error parsing image name "docker://localhost:5000/private/app:sha-2": reading manifest sha-2 in localhost:5000/private/app: unauthorized: authentication required',
    'authentication refused',
  ],
  [
    'Error parsing image name "docker://localhost:5000/a:b": reading manifest b in localhost:5000/a: manifest unknown: manifest unknown',
    'not found',
  ],
  [
    'copying image 1/1 from manifest list: Digest of source image\'s manifest would not match destination reference: "Instructed to preserve digests"',
    'digest mismatch',
  ],
  [
    'writing blob: uploading layer to http://localhost:5000/v2/x/blobs/uploads/1: DIGEST_INVALID: provided digest did not match uploaded content',
    'digest mismatch',
  ],
  ['pinging container registry localhost:5000: http: server gave HTTP response to HTTPS client', 'TLS setup'],
  ['something nobody has seen before', 'error'],
];

describe('classifyFailure', () => {
  test.each(TRANSIENT)('retries: %s', (message, reason) => {
    expect(classifyFailure(fatal(message))).toMatchObject({ transient: true, reason });
  });
  test.each(PERMANENT)('does not retry: %s', (message, reason) => {
    expect(classifyFailure(fatal(message))).toMatchObject({ transient: false, reason });
  });
  test('the fatal line decides, not skopeo\'s own "retrying" warnings before it', () => {
    const stderr =
      'time="x" level=warning msg="Failed, retrying in 1s ... (1/3). Error: Get \\"http://h/v2/\\": EOF"\n' +
      fatal('reading manifest x in h/a: manifest unknown: manifest unknown');
    expect(classifyFailure(stderr)).toMatchObject({ transient: false, reason: 'not found' });
    expect(fatalLine(stderr)).toBe('reading manifest x in h/a: manifest unknown: manifest unknown');
  });
  test('ports and digests are not read as status codes', () => {
    expect(
      classifyFailure(fatal('reading manifest sha256:5030401 in localhost:40150/x: something odd')).transient,
    ).toBe(false);
  });
  test('a 429 waits at least one second; a Retry-After in the message is honoured', () => {
    expect(classifyFailure(fatal('too many requests to registry')).retryAfterMs).toBe(1000);
    expect(classifyFailure(fatal('429 Too Many Requests, Retry-After: 3')).retryAfterMs).toBe(3000);
  });
});

describe('backoff and policy', () => {
  const policy = DEFAULT_RETRY_POLICY;
  test('exponential with equal jitter, capped, never under Retry-After', () => {
    expect(backoffMs(policy, 1, 0, () => 0)).toBe(policy.baseDelayMs / 2);
    expect(backoffMs(policy, 1, 0, () => 0.999)).toBeLessThanOrEqual(policy.baseDelayMs);
    expect(backoffMs(policy, 3, 0, () => 0)).toBe(policy.baseDelayMs * 2);
    expect(backoffMs(policy, 30, 0, () => 0.999)).toBeLessThanOrEqual(policy.maxDelayMs);
    expect(backoffMs(policy, 1, 1000, () => 0)).toBe(1000);
  });
  test('GOLDEN_IMAGE_RETRY_DELAY_SCALE scales the delays and the total, not the attempts; nonsense is ignored', () => {
    const quick = retryPolicyFrom({ GOLDEN_IMAGE_RETRY_DELAY_SCALE: '0.25' });
    expect(quick).toEqual({
      ...policy,
      baseDelayMs: policy.baseDelayMs / 4,
      maxDelayMs: policy.maxDelayMs / 4,
      maxTotalMs: policy.maxTotalMs / 4,
    });
    for (const bad of ['0', '-1', 'x', '1000'])
      expect(retryPolicyFrom({ GOLDEN_IMAGE_RETRY_DELAY_SCALE: bad })).toEqual(policy);
    expect(retryPolicyFrom({}, { attempts: 2 }).attempts).toBe(2);
  });
});

describe('withRetries', () => {
  const result = (exitCode: number, message = '') => ({ exitCode, stderr: message ? fatal(message) : '' });
  const run = async (results: { exitCode: number; stderr: string }[], policy = {}) => {
    const delays: number[] = [];
    const events: string[] = [];
    let calls = 0;
    const last = await withRetries(
      async () => results[Math.min(calls++, results.length - 1)] as { exitCode: number; stderr: string },
      (r) => r.exitCode === 0,
      {
        policy,
        sleep: async (ms) => {
          delays.push(ms);
        },
        onRetry: (event) => events.push(`${event.retry}/${event.attempts - 1} ${event.failure.reason}`),
      },
    );
    return { last, calls, delays, events };
  };

  test('transient failures are retried until success, each retry reported with its reason', async () => {
    const out = await run([result(1, 'x: 503 (Service Unavailable)'), result(1, 'Get "http://h/v2/": EOF'), result(0)]);
    expect(out.last.exitCode).toBe(0);
    expect(out.calls).toBe(3);
    expect(out.events).toEqual(['1/9 503 Service Unavailable', '2/9 connection dropped (EOF)']);
    expect(out.delays).toHaveLength(2);
  });
  test('a permanent failure is returned at once', async () => {
    const out = await run([result(1, 'unauthorized: authentication required'), result(0)]);
    expect(out.calls).toBe(1);
    expect(out.last.exitCode).toBe(1);
  });
  test('at most policy.attempts runs, and the total wait stays under maxTotalMs', async () => {
    const out = await run([result(1, 'x: 502 (Bad Gateway)')]);
    expect(out.calls).toBe(DEFAULT_RETRY_POLICY.attempts);
    expect(out.delays.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxTotalMs);
    const bounded = await run([result(1, 'x: 502 (Bad Gateway)')], { attempts: 3 });
    expect(bounded.calls).toBe(3);
  });
  test('a Retry-After longer than maxRetryAfterMs is reported instead of waited for', async () => {
    const out = await run([result(1, '429 Too Many Requests, Retry-After: 60'), result(0)]);
    expect(out.calls).toBe(1);
  });
});
