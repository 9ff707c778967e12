import { UserError } from '@golden-image/kit';
import { backoffMs, type RetryPolicy, scaledPolicy } from '@golden-image/oci-registry';
import { NetworkError } from './registry-http.js';

/**
 * Registry reads: a new version can take seconds to show (a CDN in front of the packument), and a registry may
 * answer 5xx or drop a connection. Delays scale with GOLDEN_IMAGE_RETRY_DELAY_SCALE like the image chain's.
 */
export function readBackPolicy(env: NodeJS.ProcessEnv = {}): RetryPolicy {
  return scaledPolicy(
    { attempts: 10, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000, maxTotalMs: 90_000 },
    env,
  );
}

export type Attempt<T> = { value: T } | { retry: string; retryAfterMs?: number };

export interface PollOptions {
  policy: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each retry, for the log and the summary's count. */
  onRetry?: (event: { what: string; retry: number; reason: string; delayMs: number }) => void;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Repeats `attempt` while it asks for a retry (or the request got no answer), within the policy's attempts and
 * total time; then fails with the last reason. Anything it throws otherwise ends the poll at once.
 */
export async function poll<T>(what: string, attempt: () => Promise<Attempt<T>>, options: PollOptions): Promise<T> {
  const { policy } = options;
  const sleep = options.sleep ?? sleepFor;
  const started = Date.now();
  let reason = '';
  for (let n = 1; ; n++) {
    let outcome: Attempt<T>;
    try {
      outcome = await attempt();
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      outcome = { retry: `no answer (${error.message})` };
    }
    if ('value' in outcome) return outcome.value;
    reason = outcome.retry;
    const delayMs = backoffMs(policy, n, outcome.retryAfterMs);
    const outOfTime = Date.now() + delayMs - started > policy.maxTotalMs;
    if (n >= policy.attempts || outOfTime || (outcome.retryAfterMs ?? 0) > policy.maxRetryAfterMs) {
      const seconds = Math.round((Date.now() - started) / 1000);
      throw new UserError(`${what}: ${reason}, still after ${n} attempt(s) over ${seconds} s.`);
    }
    options.onRetry?.({ what, retry: n, reason, delayMs });
    await sleep(delayMs);
  }
}
