import {
  type ActionContext,
  booleanInput,
  integerInput,
  listInput,
  maskSecretInputs,
  md,
  parseInputs,
  requiredString,
  UserError,
} from '@golden-image/kit';
import {
  digestInput,
  digestRef,
  imageInput,
  platformDigests,
  resolveTags,
  tagRef,
  verifyLayout,
} from '@golden-image/oci';
import {
  claimTags,
  registryInputSpec,
  Skopeo,
  TAG_SETTLE_MS,
  takenMessage,
  withAuthFile,
} from '@golden-image/registry';

export const inputs = {
  'layout-path': requiredString('the layout-path output of build-oci'),
  digest: digestInput(),
  image: imageInput(),
  tags: listInput({ required: 'at least one immutable tag, for example sha-1a2b3c4' }),
  'allow-overwrite': booleanInput(false),
  'tag-race-window-ms': integerInput(TAG_SETTLE_MS, 0, 60_000),
  ...registryInputSpec(),
};

/**
 * Pushes exactly the verified layout to the registry under immutable tags, then proves every tag resolves to
 * the digest that was scanned.
 */
export async function main(ctx: ActionContext): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  const tags = resolveTags(input.tags, input.image);
  return withAuthFile(ctx, input.image, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, {
      tlsVerify: input['tls-verify'],
      authFile,
      env: ctx.env,
      onRetry: (message) => ctx.info(`Retrying: ${message}`),
    });

    // The layout is verified before any tool runs or any network call is made.
    const layout = await ctx.group('Verify the layout', async () => {
      const verified = await verifyLayout(input['layout-path'], input.digest);
      ctx.info(
        `${verified.path} holds ${verified.digest}: ${verified.blobCount} blobs, ${verified.totalBytes} bytes, all present and intact.`,
      );
      return verified;
    });
    const version = await skopeo.version();

    await ctx.group('Check the tags are free', async () => {
      const taken: string[] = [];
      const currents = await Promise.all(tags.map((tag) => skopeo.digestOf(tagRef(input.image, tag))));
      for (const [i, tag] of tags.entries()) {
        const current = currents[i];
        if (current === undefined) ctx.info(`${tag}: new`);
        else if (current === layout.digest) ctx.info(`${tag}: already ${current} (re-run)`);
        else if (input['allow-overwrite'])
          ctx.warning(`${tag} points at ${current}; overwriting it because allow-overwrite is true.`);
        else taken.push(`${tagRef(input.image, tag)} already points at ${current}`);
      }
      if (taken.length > 0) {
        throw new UserError(
          `Refusing to move immutable tags:\n${taken.join('\n')}\nUse a new tag (for example sha-<commit>), or set allow-overwrite: true if moving it is intended. Nothing was pushed.`,
        );
      }
    });

    await ctx.group(`Push with skopeo ${version}`, async () => {
      // With the race guard on, the content goes up by digest first, so the timed tag writes are short manifest
      // writes. Either way a failed push leaves no tag behind (skopeo writes the tag last), and a re-run uploads
      // only what is missing.
      if (input['tag-race-window-ms'] > 0) await skopeo.pushLayoutToDigest(layout.path, input.image, layout.digest);
      // The blobs are in the registry now: tags are manifest writes that move no layers (see claimTags for races).
      await claimTags(skopeo, input.image, layout.digest, tags, {
        allowOverwrite: input['allow-overwrite'],
        settleMs: input['tag-race-window-ms'],
        write: (tag) => skopeo.pushLayout(layout.path, input.image, tag, { once: true }),
        log: (message) => ctx.info(message),
      });
    });

    const refs = tags.map((tag) => tagRef(input.image, tag));
    await ctx.group('Read every tag back', async () => {
      const wrong: string[] = [];
      const all = [digestRef(input.image, layout.digest), ...refs];
      const digests = await Promise.all(all.map((ref) => skopeo.digestOf(ref)));
      for (const [i, ref] of all.entries()) {
        const found = digests[i];
        if (found !== undefined && found !== layout.digest && refs.includes(ref))
          wrong.push(takenMessage(ref, found, layout.digest, input.image));
        else if (found !== layout.digest) wrong.push(`${ref} resolves to ${found ?? 'nothing'}`);
        else ctx.info(`${ref} -> ${found}`);
      }
      if (wrong.length > 0) {
        throw new UserError(
          `The registry does not hold what was pushed (expected ${layout.digest}):\n${wrong.join('\n')}`,
        );
      }
    });

    const platforms = platformDigests(layout.manifests);
    ctx.output('digest', layout.digest);
    ctx.output('image-ref', digestRef(input.image, layout.digest));
    ctx.output('tags', refs.join('\n'));
    ctx.output('platforms', JSON.stringify(platforms));
    await ctx.summary(
      [
        md.heading('push-layout'),
        `Pushed the verified layout as ${md.code(digestRef(input.image, layout.digest))}; every tag was read back and matches.\n`,
        md.table(
          ['tag', 'digest'],
          refs.map((ref) => [ref, layout.digest]),
        ),
        '',
        md.table(['platform', 'manifest'], Object.entries(platforms)),
        '',
        `${layout.blobCount} blobs, ${layout.totalBytes} bytes; ${layout.manifests.filter((m) => m.attestation).length} attestation manifests pushed alongside.\n`,
        `${skopeo.retries} retries of transient registry errors.\n`,
      ].join('\n'),
    );
  });
}
