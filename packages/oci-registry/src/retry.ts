/**
 * Bounded retries around one skopeo invocation.
 *
 * Measured with the fault proxy (packages/testkit/src/fault-proxy.ts) against skopeo 1.9.3, one fault injected
 * into one request of a `copy --all` of a two-platform layout and of an `inspect --raw`:
 * - 500, 502, 503: NOT retried by skopeo, whatever `--retry-times` says: it exits 1 at once ("failed to read from
 *   destination repository x: 503 (Service Unavailable)", "received unexpected HTTP status: 500 Internal Server
 *   Error", "pinging container registry H: invalid status code from registry 502 (Bad Gateway)").
 * - 429 with `Retry-After: 1`: retried inside containers/image's HTTP client (it sleeps Retry-After and repeats the
 *   request), even with `--retry-times 0`; the copy succeeds about 1 s later and nothing is printed. Only a
 *   registry that keeps answering 429 makes skopeo fail ("too many requests to registry").
 * - A dropped connection ("Head \"http://…\": EOF", "read: connection reset by peer") and "connection refused":
 *   retried by `--retry-times N` (the whole copy again, after 1 s, 2 s, 4 s…), not retried with 0.
 * So skopeo alone survives only 429s and dropped connections. This layer runs skopeo with `--retry-times 0` and
 * retries every transient failure itself, so each retry is bounded, backed off with jitter, counted and logged.
 * A repeated `skopeo copy` is safe: blobs already in the registry are found by HEAD and not uploaded again, and
 * manifests are written by content (same bytes, same digest).
 *
 * The retry unit is a whole skopeo run, and one run is many requests (a first push of two platforms with
 * attestations: 42; a repeat push: 14; a registry-to-registry retag: 24), any of which aborts it. At a 5% fault
 * rate, 5 attempts per run made 8 of 15 push-layout runs fail (15 seeds); hence 10 attempts, with a short base
 * delay and a cap on the total time instead.
 */

import { classifyFailure, type Failure, fatalLine } from './classify.js';

export type { Failure };

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  attempts: number;
  /** Delay before the first retry; doubled for each further one (plus jitter), capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the failure is reported instead. */
  maxRetryAfterMs: number;
  /** No retry starts later than this after the first attempt started. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 10,
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 10_000,
  maxTotalMs: 60_000,
};

/**
 * GOLDEN_IMAGE_RETRY_DELAY_SCALE, read here only: a number in (0, 10] that scales every retry delay of the suite
 * (tests that take a registry down use a small one, runners that want longer waits a large one); 1 otherwise.
 */
export function retryDelayScale(env: NodeJS.ProcessEnv = {}): number {
  const scale = Number(env.GOLDEN_IMAGE_RETRY_DELAY_SCALE ?? '1');
  return Number.isFinite(scale) && scale > 0 && scale <= 10 ? scale : 1;
}

/** A policy with its delays and total time scaled by retryDelayScale. */
export function scaledPolicy(policy: RetryPolicy, env: NodeJS.ProcessEnv = {}): RetryPolicy {
  const factor = retryDelayScale(env);
  return {
    ...policy,
    baseDelayMs: policy.baseDelayMs * factor,
    maxDelayMs: policy.maxDelayMs * factor,
    maxTotalMs: policy.maxTotalMs * factor,
  };
}

/** The policy for one Skopeo: the defaults, scaled (scaledPolicy), then explicit overrides. */
export function retryPolicyFrom(env: NodeJS.ProcessEnv = {}, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...scaledPolicy(DEFAULT_RETRY_POLICY, env), ...overrides };
}

/** Exponential backoff with "equal jitter": half the step fixed, half random; Retry-After is a lower bound. */
export function backoffMs(policy: RetryPolicy, retry: number, retryAfterMs = 0, random = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.max(Math.round(step / 2 + (random() * step) / 2), retryAfterMs);
}

export interface RetryEvent {
  /** The retry about to happen, 1-based. */
  retry: number;
  attempts: number;
  failure: Failure;
  delayMs: number;
  /** What failed, for the log line. */
  message: string;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  onRetry?: (event: RetryEvent) => void;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it exits 0, fails permanently, or the attempts are used up, and returns the last result
 * (the caller turns a failure into its own error message).
 */
export async function withRetries<T extends { exitCode: number; stderr: string }>(
  attempt: () => Promise<T>,
  accept: (result: T) => boolean,
  options: RetryOptions = {},
): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const sleep = options.sleep ?? sleepFor;
  const started = Date.now();
  for (let n = 1; ; n++) {
    const result = await attempt();
    if (accept(result) || n >= policy.attempts) return result;
    const failure = classifyFailure(result.stderr);
    if (!failure.transient) return result;
    if ((failure.retryAfterMs ?? 0) > policy.maxRetryAfterMs) return result;
    const delayMs = backoffMs(policy, n, failure.retryAfterMs);
    if (Date.now() + delayMs - started > policy.maxTotalMs) return result;
    options.onRetry?.({ retry: n, attempts: policy.attempts, failure, delayMs, message: fatalLine(result.stderr) });
    await sleep(delayMs);
  }
}
