import {
  type ActionContext,
  booleanInput,
  inputProblem,
  integerInput,
  listInput,
  maskSecretInputs,
  md,
  parseInputs,
  requiredString,
  show,
  UserError,
} from '@golden-image/kit';
import {
  describeVerification,
  digestInput,
  digestRef,
  imagesInput,
  isImmutableTag,
  originOf,
  platformDigests,
  singleImageView,
  singleRegistryProblem,
  TAG_RULE,
  tagRef,
  tagsForImages,
  verifyLayout,
} from '@golden-image/oci';
import {
  claimTags,
  OCI11_SKOPEO,
  planTags,
  registryInputSpec,
  Skopeo,
  TAG_SETTLE_MS,
  type TagPlan,
  takenMessage,
  withAuthFile,
} from '@golden-image/oci-registry';
import semver from 'semver';

export const inputs = {
  'layout-path': requiredString('the layout-path output of build-oci'),
  digest: digestInput(),
  image: imagesInput(),
  tags: listInput({ required: 'at least one immutable tag, for example sha-1a2b3c4', check: placeholderProblem }),
  'allow-overwrite': booleanInput(false),
  'tag-race-window-ms': integerInput(TAG_SETTLE_MS, 0, 60_000),
  ...registryInputSpec(),
};

/** push-layout writes its tags as given: a `{date}` (or any `{…}`) is another step's placeholder. */
function placeholderProblem(entry: string): string | undefined {
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
function checkTagKinds(ctx: ActionContext, tags: readonly string[], allowOverwrite: boolean): void {
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
    ctx.warning(
      `No tag in "tags" (${tags.join(', ')}) is immutable by the tag rule (${TAG_RULE}). push-layout keeps them ` +
        'immutable anyway: a later push of another commit to them is refused unless allow-overwrite is true.',
    );
  }
}

export interface PushLayoutDeps {
  /**
   * The root action: the read-back of every tag (after the race guard's window, which it waits out first if need be)
   * is handed over to run later, so the window passes while the root action signs the digest. It must run before
   * anything trusts a tag; this step's outputs are set before it runs.
   */
  deferReadBack?: (readBack: () => Promise<void>) => void;
}

/**
 * Pushes exactly the verified layout to every image under immutable tags, then proves every tag resolves to the
 * digest that was scanned. An immutable tag that already holds an earlier build of the same commit stays there.
 */
export async function main(ctx: ActionContext, deps: PushLayoutDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  const images = input.image;
  const tags = tagsForImages(input.tags, images);
  checkTagKinds(ctx, tags, input['allow-overwrite']);
  const several = (input.username || input.password) && singleRegistryProblem(images);
  if (several) throw new UserError(inputProblem('username', several));
  return withAuthFile(ctx, images[0] as string, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, {
      tlsVerify: input['tls-verify'],
      authFile,
      env: ctx.env,
      onRetry: (message) => ctx.info(`Retrying: ${message}`),
    });

    // The layout is verified before any tool runs or any network call is made.
    const layout = await ctx.group('Verify the layout', async () => {
      const verified = await verifyLayout(input['layout-path'], input.digest);
      ctx.info(describeVerification(verified));
      if (verified.entries > 1)
        ctx.info(
          `index.json lists ${verified.entries} entries; only ${verified.digest} (the "digest" input) is pushed.`,
        );
      return verified;
    });
    const origin = originOf(layout.annotations);
    // skopeo's version is read beside the tag look-ups: each is a process start, and neither needs the other.
    const planning = Promise.all(
      images.map((image) =>
        planTags(skopeo, image, layout.digest, tags, { allowOverwrite: input['allow-overwrite'], origin }),
      ),
    );
    const [version, all] = await Promise.all([skopeo.version(), planning]);
    if (layout.oci11Fields.length > 0 && semver.lt(version, OCI11_SKOPEO)) {
      throw new UserError(
        `skopeo ${version} cannot push this layout unchanged: ${layout.oci11Fields.join('; ')}. ` +
          `skopeo before ${OCI11_SKOPEO} does not know these OCI 1.1 fields, drops them when it writes the index, and so would change its digest ` +
          '(--preserve-digests then refuses). Use skopeo 1.11 or newer (ubuntu-24.04 runners ship 1.13), or build the image without the ' +
          'artifacts in its index (attach SBOMs and signatures after the push, as sign-digest does). Nothing was pushed.',
      );
    }

    const plans = await ctx.group('Check the tags', async () => {
      const taken: string[] = [];
      for (const [i, image] of images.entries()) {
        for (const plan of all[i] ?? []) {
          const ref = tagRef(image, plan.tag);
          if (plan.state === 'new') ctx.info(`${ref}: new`);
          else if (plan.state === 'ours') ctx.info(`${ref}: already ${layout.digest} (re-run)`);
          else if (plan.state === 'overwrite')
            ctx.warning(`${ref} points at ${plan.current}; overwriting it because allow-overwrite is true.`);
          else if (plan.state === 'kept')
            ctx.info(
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
      return new Map(images.map((image, i) => [image, all[i] ?? []]));
    });

    const view = await singleImageView(layout, ctx.tempDir);
    let settleUntil = performance.now();
    try {
      await ctx.group(`Push with skopeo ${version}`, async () => {
        // With the race guard on, with several images, or with no tag to write, the content goes up by digest first:
        // every registry holds the whole image before any tag is written, and the timed tag writes are short manifest
        // writes. Either way a failed push leaves no tag behind (skopeo writes the tag last); a re-run uploads only
        // what is missing.
        const byDigest = input['tag-race-window-ms'] > 0 || images.length > 1;
        for (const image of images) {
          const toWrite = writable(plans.get(image) ?? []);
          if (byDigest || toWrite.length === 0) await skopeo.pushLayoutToDigest(view.path, image, layout.digest);
        }
        for (const image of images) {
          const imagePlans = plans.get(image) ?? [];
          // Once every manifest is in the repository, a tag is one PUT of the top index (no layer moves).
          let pushed = byDigest || imagePlans.some((plan) => plan.state === 'ours');
          const claim = await claimTags(skopeo, image, layout.digest, writable(imagePlans), {
            allowOverwrite: input['allow-overwrite'],
            settleMs: input['tag-race-window-ms'],
            known: new Map(imagePlans.map((plan) => [plan.tag, currentDigest(plan, layout.digest)])),
            write: async (tag) => {
              if (pushed) return skopeo.pushIndexOnly(view.path, image, tag, { once: true });
              await skopeo.pushLayout(view.path, image, tag, { once: true });
              pushed = true;
            },
            log: (message) => ctx.info(message),
            deferSettle: deps.deferReadBack !== undefined,
          });
          settleUntil = Math.max(settleUntil, claim.settleUntil);
        }
      });
    } finally {
      await view.remove();
    }

    const refs: string[] = [];
    const kept: string[] = [];
    const expected: [string, string, boolean][] = [];
    for (const image of images) {
      // A tag of this build that reads back as the digest proves the image is there by digest: no look-up of its own.
      if (writable(plans.get(image) ?? []).length === 0)
        expected.push([digestRef(image, layout.digest), layout.digest, false]);
      for (const plan of plans.get(image) ?? []) {
        const ref = tagRef(image, plan.tag);
        if (plan.state === 'kept') {
          kept.push(ref);
          expected.push([ref, plan.current, false]);
        } else {
          refs.push(ref);
          expected.push([ref, layout.digest, true]);
        }
      }
    }
    const readBack = (reader: Skopeo) =>
      ctx.group('Read every tag back', async () => {
        const wait = settleUntil - performance.now();
        if (wait > 0) {
          ctx.info(`Waiting ${Math.ceil(wait)} ms more, until the race guard's window has passed.`);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
        const found = await Promise.all(expected.map(([ref]) => reader.digestOf(ref)));
        const wrong: string[] = [];
        for (const [i, [ref, digest, claimed]] of expected.entries()) {
          const got = found[i];
          if (got === digest) ctx.info(`${ref} -> ${got}`);
          else if (claimed && got !== undefined) wrong.push(takenMessage(ref, got, layout.digest, imageOf(ref)));
          else wrong.push(`${ref} resolves to ${got ?? 'nothing'} (expected ${digest})`);
        }
        if (wrong.length > 0) {
          throw new UserError(
            `The registry does not hold what was pushed (expected ${layout.digest}):\n${wrong.join('\n')}`,
          );
        }
      });
    if (deps.deferReadBack) {
      // The private auth file goes when this step ends: the later read-back makes its own.
      deps.deferReadBack(() =>
        withAuthFile(ctx, images[0] as string, input, (later) =>
          readBack(
            new Skopeo(ctx.runner, {
              tlsVerify: input['tls-verify'],
              authFile: later,
              env: ctx.env,
              onRetry: (message) => ctx.info(`Retrying: ${message}`),
            }),
          ),
        ),
      );
    } else {
      await readBack(skopeo);
    }

    const platforms = platformDigests(layout.manifests);
    ctx.output('digest', layout.digest);
    ctx.output('image-ref', images.map((image) => digestRef(image, layout.digest)).join('\n'));
    ctx.output('tags', refs.join('\n'));
    if (kept.length > 0) ctx.output('kept-tags', kept.join('\n'));
    ctx.output('platforms', JSON.stringify(platforms));
    await ctx.summary(summary(images, layout, plans, skopeo.retries, platforms, deps.deferReadBack !== undefined));
  });
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

function summary(
  images: string[],
  layout: Awaited<ReturnType<typeof verifyLayout>>,
  plans: Map<string, TagPlan[]>,
  retries: number,
  platforms: Record<string, string>,
  deferred = false,
): string {
  const rows: string[][] = [];
  for (const image of images) {
    for (const plan of plans.get(image) ?? []) {
      const ref = tagRef(image, plan.tag);
      if (plan.state === 'kept')
        rows.push([ref, plan.current, 'kept: an earlier build of the same commit (immutable tags never move)']);
      else rows.push([ref, layout.digest, plan.state === 'ours' ? 'already there (re-run)' : plan.state]);
    }
  }
  const keptAny = rows.some((row) => row[2]?.startsWith('kept'));
  return [
    md.heading('push-layout'),
    `Pushed the verified layout as ${images.map((image) => md.code(digestRef(image, layout.digest))).join(', ')}; ${deferred ? "every tag is read back once the race guard's window has passed, before anything is promoted" : 'every tag was read back'}.\n`,
    keptAny
      ? 'This is a rebuild of a commit that was already pushed (a re-run or a nightly): its immutable tags stay on the earlier build, and this build is in the registry by digest, ready to be signed and promoted.\n'
      : '',
    md.table(['tag', 'digest', ''], rows),
    '',
    md.table(['platform', 'manifest'], Object.entries(platforms)),
    '',
    `${describeVerification(layout)} ${layout.manifests.filter((m) => m.attestation).length} attestation manifests pushed alongside.\n`,
    `${retries} retries of transient registry errors.\n`,
  ].join('\n');
}
