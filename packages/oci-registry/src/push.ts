import { type ActionContext, inputProblem, show, UserError } from '@golden-image/kit';
import { digestRef, isImmutableTag, TAG_RULE, tagRef } from '@golden-image/oci';
import { claimTags, takenMessage } from './claim.js';
import type { Skopeo } from './skopeo.js';
import type { TagPlan } from './tag-plan.js';

// push-layout's sequence: immutable tag names checked, each tag planned (tag-plan.ts), the layout pushed and the
// tags claimed (claim.ts), every tag read back.

/** Each image's tag plans, in the order of the "image" input. */
export type PushPlans = Map<string, TagPlan[]>;

type Log = Pick<ActionContext, 'info' | 'warning'>;

/** push-layout writes its tags as given: a `{date}` (or any `{…}`) is another step's placeholder. */
export function placeholderProblem(entry: string): string | undefined {
  const placeholder = /\{[^}]*\}/.exec(entry)?.[0];
  if (!placeholder) return undefined;
  return (
    `${show(entry)} holds the placeholder ${placeholder}, which push-layout does not expand: it writes immutable tags exactly as given. ` +
    '{date} is expanded by promote-tags (its tags input) and by the root action and the reusable workflow (rolling-tags); ' +
    'a dated tag such as nightly-{date} is a rolling tag, so give it there'
  );
}

/** Names that move by convention: as an immutable tag, the first push would hold them for good. */
const ROLLING_NAMES = ['latest', 'edge', 'nightly', 'stable', 'main', 'master'];

/**
 * Tags that would stick: a conventionally rolling name (latest) pushed as an immutable tag stays on this build, and
 * every later push of another commit is refused. Refused unless allow-overwrite moves it on every push; a set with
 * no immutable tag by the tag rule gets a warning.
 */
export function checkTagKinds(log: Log, tags: readonly string[], allowOverwrite: boolean): void {
  const rolling = tags.filter((tag) => ROLLING_NAMES.includes(tag));
  if (rolling.length > 0 && !allowOverwrite) {
    throw new UserError(
      inputProblem(
        'tags',
        `${rolling.join(', ')} ${rolling.length > 1 ? 'are rolling tags' : 'is a rolling tag'}, but push-layout pushes immutable tags, which never move: ` +
          `${rolling[0]} would stay on this build, and every later push of another commit would be refused. ` +
          'Give an immutable tag here (sha-<commit>, for example sha-1a2b3c4, or a version such as 1.2.3), and move ' +
          `${rolling.join(', ')} with promote-tags after sign-digest (the root action and the reusable workflow do both); ` +
          'or set allow-overwrite: true to move these tags on every push, before anything is signed. Nothing was pushed.',
      ),
    );
  }
  if (!tags.some(isImmutableTag)) {
    log.warning(
      `No tag in "tags" (${tags.join(', ')}) is immutable by the tag rule (${TAG_RULE}). push-layout keeps them ` +
        'immutable anyway: a later push of another commit to them is refused unless allow-overwrite is true.',
    );
  }
}

/** Says what happens to every tag, and refuses the push (before anything is written) when a tag is taken. */
export function acceptPlans(log: Log, images: readonly string[], planned: TagPlan[][], digest: string): PushPlans {
  const taken: string[] = [];
  for (const [i, image] of images.entries()) {
    for (const plan of planned[i] ?? []) {
      const ref = tagRef(image, plan.tag);
      if (plan.state === 'new') log.info(`${ref}: new`);
      else if (plan.state === 'ours') log.info(`${ref}: already ${digest} (re-run)`);
      else if (plan.state === 'overwrite')
        log.warning(`${ref} points at ${plan.current}; overwriting it because allow-overwrite is true.`);
      else if (plan.state === 'kept')
        log.info(
          `${ref}: stays on ${plan.current}, an earlier build of the same commit (${plan.why}); this build is pushed by digest.`,
        );
      else taken.push(`${ref} already points at ${plan.current}: ${plan.why}`);
    }
  }
  if (taken.length > 0) {
    throw new UserError(
      `Refusing to move immutable tags:\n${taken.join('\n')}\nUse a new tag (for example sha-<commit>), or set allow-overwrite: true if moving it is intended. Nothing was pushed.`,
    );
  }
  return new Map(images.map((image, i) => [image, planned[i] ?? []]));
}

export interface PushOptions {
  allowOverwrite: boolean;
  settleMs: number;
  /** Return when the race guard's window ends instead of waiting it out (the root action signs meanwhile). */
  deferSettle: boolean;
  log: (message: string) => void;
}

/**
 * Pushes the single-image layout at `layoutPath` to every image and points the writable tags at it. Returns when
 * the race guard's window ends (performance.now() clock): no tag may be trusted before then.
 */
export async function pushAndClaim(
  skopeo: Skopeo,
  layoutPath: string,
  digest: string,
  plans: PushPlans,
  options: PushOptions,
): Promise<number> {
  // With the race guard on, with several images, or with no tag to write, the content goes up by digest first:
  // every registry holds the whole image before any tag is written, and the timed tag writes are short manifest
  // writes. Either way a failed push leaves no tag behind (skopeo writes the tag last); a re-run uploads only
  // what is missing.
  const byDigest = options.settleMs > 0 || plans.size > 1;
  for (const [image, imagePlans] of plans) {
    if (byDigest || writable(imagePlans).length === 0) await skopeo.pushLayoutToDigest(layoutPath, image, digest);
  }
  let settleUntil = performance.now();
  for (const [image, imagePlans] of plans) {
    // Once every manifest is in the repository, a tag is one PUT of the top index (no layer moves).
    let pushed = byDigest || imagePlans.some((plan) => plan.state === 'ours');
    const claim = await claimTags(skopeo, image, digest, writable(imagePlans), {
      allowOverwrite: options.allowOverwrite,
      settleMs: options.settleMs,
      known: new Map(imagePlans.map((plan) => [plan.tag, currentDigest(plan, digest)])),
      write: async (tag) => {
        if (pushed) return skopeo.pushIndexOnly(layoutPath, image, tag, { once: true });
        await skopeo.pushLayout(layoutPath, image, tag, { once: true });
        pushed = true;
      },
      log: options.log,
      deferSettle: options.deferSettle,
    });
    settleUntil = Math.max(settleUntil, claim.settleUntil);
  }
  return settleUntil;
}

/** What the read-back expects: each reference, the digest it must resolve to, and whether this run wrote it. */
export interface ReadBack {
  expected: [ref: string, digest: string, claimed: boolean][];
  /** The references this run tagged (or found already tagged), and those kept on an earlier build. */
  tags: string[];
  kept: string[];
}

export function readBackOf(plans: PushPlans, digest: string): ReadBack {
  const result: ReadBack = { expected: [], tags: [], kept: [] };
  for (const [image, imagePlans] of plans) {
    // A tag of this build that reads back as the digest proves the image is there by digest: no look-up of its own.
    if (writable(imagePlans).length === 0) result.expected.push([digestRef(image, digest), digest, false]);
    for (const plan of imagePlans) {
      const ref = tagRef(image, plan.tag);
      if (plan.state === 'kept') {
        result.kept.push(ref);
        result.expected.push([ref, plan.current, false]);
      } else {
        result.tags.push(ref);
        result.expected.push([ref, digest, true]);
      }
    }
  }
  return result;
}

/** Waits out the race guard's window, then reads every reference back; refuses what does not match. */
export async function readBackTags(
  reader: Skopeo,
  readBack: ReadBack,
  digest: string,
  settleUntil: number,
  log: (message: string) => void,
): Promise<void> {
  const wait = settleUntil - performance.now();
  if (wait > 0) {
    log(`Waiting ${Math.ceil(wait)} ms more, until the race guard's window has passed.`);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const found = await Promise.all(readBack.expected.map(([ref]) => reader.digestOf(ref)));
  const wrong: string[] = [];
  for (const [i, [ref, want, claimed]] of readBack.expected.entries()) {
    const got = found[i];
    if (got === want) log(`${ref} -> ${got}`);
    else if (claimed && got !== undefined) wrong.push(takenMessage(ref, got, digest, imageOf(ref)));
    else wrong.push(`${ref} resolves to ${got ?? 'nothing'} (expected ${want})`);
  }
  if (wrong.length > 0) {
    throw new UserError(`The registry does not hold what was pushed (expected ${digest}):\n${wrong.join('\n')}`);
  }
}

function writable(plans: readonly TagPlan[]): string[] {
  return plans.filter((plan) => plan.state !== 'kept' && plan.state !== 'taken').map((plan) => plan.tag);
}

/** The digest the tag held when it was read (undefined: nothing there). */
function currentDigest(plan: TagPlan, digest: string): string | undefined {
  if (plan.state === 'new') return undefined;
  return plan.state === 'ours' ? digest : plan.current;
}

function imageOf(ref: string): string {
  return ref.slice(0, ref.lastIndexOf(':'));
}
