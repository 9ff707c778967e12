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
  UserError,
} from '@golden-image/kit';
import {
  describeVerification,
  digestInput,
  digestRef,
  imagesInput,
  originOf,
  platformDigests,
  singleImageView,
  singleRegistryProblem,
  tagRef,
  tagsForImages,
  verifyLayout,
} from '@golden-image/oci';
import {
  acceptPlans,
  checkPushesUnchanged,
  checkTagKinds,
  type PushPlans,
  placeholderProblem,
  planTags,
  pushAndClaim,
  readBackOf,
  readBackTags,
  registryInputSpec,
  Skopeo,
  TAG_SETTLE_MS,
  withAuthFile,
} from '@golden-image/oci-registry';

export const inputs = {
  'layout-path': requiredString('the layout-path output of build-oci'),
  digest: digestInput(),
  image: imagesInput(),
  tags: listInput({ required: 'at least one immutable tag, for example sha-1a2b3c4', check: placeholderProblem }),
  'allow-overwrite': booleanInput(false),
  'tag-race-window-ms': integerInput(TAG_SETTLE_MS, 0, 60_000),
  ...registryInputSpec(),
};

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
    const skopeoWith = (file: string | undefined) =>
      new Skopeo(ctx.runner, {
        tlsVerify: input['tls-verify'],
        authFile: file,
        env: ctx.env,
        onRetry: (message) => ctx.info(`Retrying: ${message}`),
      });
    const skopeo = skopeoWith(authFile);

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
    checkPushesUnchanged(version, layout.oci11Fields);

    const plans = await ctx.group('Check the tags', async () => acceptPlans(ctx, images, all, layout.digest));

    const view = await singleImageView(layout, ctx.tempDir);
    let settleUntil: number;
    try {
      settleUntil = await ctx.group(`Push with skopeo ${version}`, () =>
        pushAndClaim(skopeo, view.path, layout.digest, plans, {
          allowOverwrite: input['allow-overwrite'],
          settleMs: input['tag-race-window-ms'],
          deferSettle: deps.deferReadBack !== undefined,
          log: (message) => ctx.info(message),
        }),
      );
    } finally {
      await view.remove();
    }

    const expected = readBackOf(plans, layout.digest);
    const readBack = (reader: Skopeo) =>
      ctx.group('Read every tag back', () =>
        readBackTags(reader, expected, layout.digest, settleUntil, (message) => ctx.info(message)),
      );
    if (deps.deferReadBack) {
      // The private auth file goes when this step ends: the later read-back makes its own.
      deps.deferReadBack(() => withAuthFile(ctx, images[0] as string, input, (later) => readBack(skopeoWith(later))));
    } else {
      await readBack(skopeo);
    }

    const platforms = platformDigests(layout.manifests);
    ctx.output('digest', layout.digest);
    ctx.output('image-ref', images.map((image) => digestRef(image, layout.digest)).join('\n'));
    ctx.output('tags', expected.tags.join('\n'));
    if (expected.kept.length > 0) ctx.output('kept-tags', expected.kept.join('\n'));
    ctx.output('platforms', JSON.stringify(platforms));
    await ctx.summary(summary(images, layout, plans, skopeo.retries, platforms, deps.deferReadBack !== undefined));
  });
}

function summary(
  images: string[],
  layout: Awaited<ReturnType<typeof verifyLayout>>,
  plans: PushPlans,
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
