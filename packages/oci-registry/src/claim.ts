import { UserError } from '@golden-image/kit';
import { digestRef, tagRef } from '@golden-image/oci';
import { backoffMs, type RetryPolicy } from './retry.js';
import { type Skopeo, SkopeoError } from './skopeo.js';

/**
 * How long a run waits after writing a new immutable tag before it reads the tag back and trusts it; also the
 * longest a tag write may take, from the re-check that found the tag free to the end of the write.
 */
export const TAG_SETTLE_MS = 1500;

export interface ClaimOptions {
  allowOverwrite: boolean;
  /** One attempt at pointing TAG at the digest (no retries: the claim re-checks the tag before each attempt). */
  write: (tag: string) => Promise<void>;
  settleMs?: number;
  policy?: Partial<RetryPolicy>;
  log: (message: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** A monotonic clock in milliseconds (tests pass their own). */
  now?: () => number;
  /**
   * The digest each tag held when the caller read it just before (undefined: nothing). With settleMs 0 writers are
   * serialised by the caller (a concurrency group), so the first attempt trusts it instead of reading the tag again.
   */
  known?: ReadonlyMap<string, string | undefined>;
  /**
   * Do not wait the window here: return when it ends (settleUntil, on the `now` clock) instead, so the caller can do
   * work that needs no tag meanwhile (the root action signs by digest) and read the tags back only after it.
   */
  deferSettle?: boolean;
}

export function takenMessage(ref: string, other: string, digest: string, image: string): string {
  return (
    `tag ${ref} was taken by digest ${other} while this run was pushing ${digest}. ` +
    `This run's image is in the registry, untagged, as ${digestRef(image, digest)}; use a new tag for it.`
  );
}

/**
 * Points each tag at DIGEST (already pushed by digest, so no layer moves and no tag was at risk while pushing).
 *
 * The registry has no compare-and-swap, so two runs claiming the same new tag are serialised with Fischer's
 * timed mutual exclusion: re-check the tag is free, write it, wait TAG_SETTLE_MS, read it back (the caller does).
 * The last writer wins; a run that wrote earlier sees the other digest on read-back and fails. Two runs can both
 * report success only if the later write landed more than settleMs after its own re-check found the tag free
 * (then the earlier run's read-back came before it). Each run measures that span for itself (the span of every
 * write attempt that may have landed, backoff excluded, since a failed attempt restarts with a fresh re-check) and
 * fails when it exceeds settleMs, so at most one run reports success. The remaining window: that late run fails,
 * but its write has already replaced the tag the other run verified; and for up to settleMs the tag points at the
 * first writer's (fully pushed, verified) image before the winner's write replaces it. settleMs 0 turns the guard
 * off, for callers whose pushes of one image are already serialised (a workflow concurrency group).
 */
export async function claimTags(
  skopeo: Skopeo,
  image: string,
  digest: string,
  tags: string[],
  options: ClaimOptions,
): Promise<{ claimed: string[]; settleUntil: number }> {
  const policy = { ...skopeo.retryPolicy, ...options.policy };
  const settleMs = options.settleMs ?? TAG_SETTLE_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? (() => performance.now());
  const claimed: string[] = [];
  for (const tag of tags) {
    const ref = tagRef(image, tag);
    const spans: number[] = [];
    let fresh = true;
    const started = now();
    for (let attempt = 1; ; attempt++) {
      const start = now();
      let current: string | undefined;
      let writing = false;
      try {
        current =
          attempt === 1 && settleMs === 0 && options.known?.has(tag)
            ? options.known.get(tag)
            : await skopeo.digestOf(ref, { once: true });
        if (current !== digest && current !== undefined && !options.allowOverwrite)
          throw new UserError(takenMessage(ref, current, digest, image));
        writing = current !== digest;
        if (writing) await options.write(tag);
      } catch (error) {
        const delayMs = error instanceof SkopeoError ? backoffMs(policy, attempt, error.failure.retryAfterMs) : 0;
        if (
          !(error instanceof SkopeoError) ||
          !error.failure.transient ||
          attempt >= policy.attempts ||
          now() + delayMs - started > policy.maxTotalMs
        )
          throw error;
        // The write may have landed although its answer was lost: its span counts.
        if (writing) spans.push(now() - start);
        skopeo.retries++;
        options.log(
          `Claiming ${ref}: ${error.failure.reason}; re-checking the tag and retrying (${attempt} of ${policy.attempts - 1}) in ${(delayMs / 1000).toFixed(1)} s`,
        );
        await sleep(delayMs);
        continue;
      }
      if (current === digest) {
        // Ours already: a re-run, or an earlier attempt whose write landed although its answer was lost.
        if (spans.length > 0) claimed.push(tag);
        break;
      }
      if (current !== undefined) {
        options.log(`${ref} pointed at ${current}; overwritten because allow-overwrite is true.`);
        fresh = false;
      }
      spans.push(now() - start);
      claimed.push(tag);
      break;
    }
    const longest = Math.max(0, ...spans);
    if (fresh && !options.allowOverwrite && settleMs > 0 && longest > settleMs) {
      throw new UserError(
        `Writing the new tag ${ref} took ${Math.round(longest)} ms from the check that found it free, longer than ` +
          `the ${settleMs} ms a concurrent run waits before trusting its own write: a run pushing another image ` +
          `to the same tag at the same time could have reported success before this write replaced it. ` +
          `${ref} now points at ${digest}; make sure that is the image it should hold, or push under a new tag.`,
      );
    }
  }
  const guarded = claimed.length > 0 && !options.allowOverwrite && settleMs > 0;
  if (guarded && options.deferSettle) {
    options.log(
      `The new tags are read back once ${settleMs} ms have passed, so a concurrent writer shows up; the next steps need no tag and run meanwhile.`,
    );
    return { claimed, settleUntil: now() + settleMs };
  }
  if (guarded) {
    options.log(`Waiting ${settleMs} ms before reading the new tags back, so a concurrent writer shows up.`);
    await sleep(settleMs);
  }
  return { claimed, settleUntil: now() };
}
