import { evidenceRequirementInputs, requireEvidence, requirementOf } from '@golden-image/evidence';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  maskSecretInputs,
  md,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import {
  digestInput,
  digestRef,
  expandTagTemplate,
  imageInput,
  isImmutableTag,
  resolveTags,
  TAG_RULE,
  tagRef,
} from '@golden-image/oci';
import { Imagetools, registryInputSpec, Skopeo, type TagEngine, withAuthFile } from '@golden-image/oci-registry';
import {
  describeBinding,
  identityInput,
  identityRegExpInput,
  installCosign,
  issuerInput,
  keyInput,
  registryFlags,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
  verifierFromInputs,
  verifySignature,
} from '@golden-image/signing';
import { ensureTool, toolInputSpec, toolRequest } from '@golden-image/tools';

export const inputs = {
  image: imageInput(),
  digest: digestInput(),
  tags: listInput({ required: 'the rolling tags to move, for example latest, nightly, nightly-{date}' }),
  'allow-immutable-tags': booleanInput(false),
  engine: enumInput(['auto', 'skopeo', 'imagetools'], 'auto'),
  'require-signature': booleanInput(true),
  ...evidenceRequirementInputs([]),
  'certificate-identity': identityInput(),
  'certificate-identity-regexp': identityRegExpInput(),
  'certificate-oidc-issuer': issuerInput(),
  ...sourceInputSpec(),
  key: keyInput('public'),
  'bundle-format': enumInput(['legacy', 'new'] as const, 'legacy'),
  ...sigstoreInputSpec(),
  ...registryInputSpec(),
  ...toolInputSpec('cosign'),
};

export interface PromoteTagsDeps {
  /**
   * The root action: its deferred read-back of push-layout's immutable tags, run after every check of the digest and
   * just before the first tag moves, so the race guard's window passes while the checks run.
   */
  beforeMove?: () => Promise<void>;
  /** The tool installer (the real tier stands the machine's builds in for the pinned downloads). */
  installTool?: typeof ensureTool;
}

/** Moves rolling tags to a digest that is already in the registry, then proves every tag resolves to it. */
export async function main(ctx: ActionContext, now: Date = new Date(), deps: PromoteTagsDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  const expanded = input.tags.map((template) => {
    const { tag, problem } = expandTagTemplate(template, now);
    if (problem) throw new UserError(inputProblem('tags', problem));
    return tag as string;
  });
  const tags = resolveTags(expanded, input.image);
  checkRollingTags(ctx, tags, input['allow-immutable-tags']);
  const evidence = requirementOf(input);
  const signer =
    input['require-signature'] || evidence.kinds.length > 0
      ? verifierFromInputs(ctx, input, 'require-signature')
      : undefined;
  return withAuthFile(ctx, input.image, input, async (authFile) => {
    const engine = await chooseEngine(ctx, input.engine, { tlsVerify: input['tls-verify'], authFile });
    const imageRef = digestRef(input.image, input.digest);

    await ctx.group(`Check ${imageRef} is in the registry`, async () => {
      const found = await engine.digestOf(imageRef);
      if (found !== input.digest) {
        throw new UserError(`${imageRef} is not in the registry: push it first (push-layout). No tag was moved.`);
      }
    });

    const cosign = signer
      ? await installCosign(
          ctx,
          toolRequest('cosign', input),
          {
            bundleFormat: input['bundle-format'],
            instance: sigstoreInstanceOf(input),
            registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
          },
          deps.installTool ?? ensureTool,
        )
      : undefined;
    if (cosign && signer) {
      await ctx.group(`Verify the signature of ${imageRef}`, async () => {
        const verified = await cosign.withRegistryAuth(authFile, (cosign) =>
          verifySignature(ctx, cosign, { imageRef, ...signer }),
        );
        ctx.info(`${verified.signatures} matching signature(s) for ${imageRef}: ${describeBinding(signer)}.`);
      });
    } else {
      ctx.warning('require-signature is false: tags move without checking that the digest is signed.');
    }
    if (cosign && signer && evidence.kinds.length > 0) {
      // The SBOM and scan result (attest-evidence) must verify for the same signer, fresh and clean enough.
      await ctx.group(`Verify the attestations of ${imageRef}`, async () => {
        const found = await cosign.withRegistryAuth(authFile, (cosign) =>
          requireEvidence(cosign, { imageRef, requirement: evidence, signer, now }),
        );
        ctx.info(found.join('; '));
      });
    }

    await deps.beforeMove?.();
    await ctx.group(`Move ${tags.length} tags with ${engine.name}`, async () => {
      const moved: string[] = [];
      for (const [i, tag] of tags.entries()) {
        try {
          await engine.tagDigest(input.image, input.digest, tag);
        } catch (error) {
          // Tags move one by one: name exactly which ones moved and which kept their old digest.
          const [failed, ...untouched] = tags.slice(i).map((t) => tagRef(input.image, t));
          throw new UserError(
            `${(error as Error).message}\nMoved to ${input.digest}: ${moved.join(', ') || 'none'}.\n` +
              `Not moved: ${[failed, ...untouched].join(', ')} (${failed} unchanged unless the registry applied the failed write; ` +
              'the rest were not attempted). Re-run the job to finish the promotion.',
          );
        }
        moved.push(tagRef(input.image, tag));
        ctx.info(`${tagRef(input.image, tag)} -> ${input.digest}`);
      }
    });

    const refs = tags.map((tag) => tagRef(input.image, tag));
    await ctx.group('Read every tag back', async () => {
      const wrong: string[] = [];
      for (const ref of refs) {
        const found = await engine.digestOf(ref);
        if (found !== input.digest) wrong.push(`${ref} resolves to ${found ?? 'nothing'}`);
        else ctx.info(`${ref} -> ${found}`);
      }
      if (wrong.length > 0) {
        throw new UserError(
          `Promoted tags do not resolve to ${input.digest}:\n${wrong.join('\n')}\n` +
            (engine.name === 'imagetools'
              ? 'imagetools create wraps a single-platform manifest in a new index with a new, unsigned digest: use engine: skopeo.'
              : 'Another writer may have moved these tags at the same time; re-run the job.'),
        );
      }
    });

    ctx.output('digest', input.digest);
    ctx.output('tags', refs.join('\n'));
    await ctx.summary(
      [
        md.heading('promote-tags'),
        `Moved ${refs.length} tags to ${md.code(imageRef)} with ${engine.name}; each was read back and resolves to that digest.\n`,
        signer
          ? `The signature was verified first: ${md.code(describeBinding(signer))}.\n`
          : '**The signature was not checked** (require-signature: false).\n',
        evidence.kinds.length > 0
          ? `Its attestations were verified first (${evidence.kinds.join(', ')}; scan within ${evidence.maxScanAge}, nothing at or above ${evidence.blockSeverity}).\n`
          : '',
        md.table(
          ['tag', 'digest'],
          refs.map((ref) => [ref, input.digest]),
        ),
        '',
        `${engine.retries} retries of transient registry errors.\n`,
      ].join('\n'),
    );
  });
}

/**
 * promote-tags moves tags; the tag rule's immutable tags (sha-<hex>, full versions) are push-layout's, written once
 * with a check that nobody else holds them, and never moved. Refused before anything runs unless allow-immutable-tags.
 */
function checkRollingTags(ctx: ActionContext, tags: readonly string[], allowImmutable: boolean): void {
  const immutable = tags.filter(isImmutableTag);
  if (immutable.length === 0) return;
  const which = `${immutable.join(', ')} ${immutable.length > 1 ? 'are immutable tags' : 'is an immutable tag'} by the tag rule (${TAG_RULE})`;
  if (!allowImmutable) {
    throw new UserError(
      inputProblem(
        'tags',
        `${which}. Immutable tags are push-layout's to write, once, refusing a tag another build already holds; ` +
          'promote-tags moves tags, and moving one of these would repoint a name people pin to another build. Give it to ' +
          'push-layout (its tags input; the root action and the reusable workflow do so with their tags input), give ' +
          'promote-tags only rolling tags (latest, nightly, 1.2, branch names), or set allow-immutable-tags: true to move ' +
          'it anyway. No tag was moved',
      ),
    );
  }
  ctx.warning(
    `${which}; allow-immutable-tags is true, so ${immutable.length > 1 ? 'they move' : 'it moves'} like a rolling tag.`,
  );
}

async function chooseEngine(
  ctx: ActionContext,
  engine: 'auto' | 'skopeo' | 'imagetools',
  options: { tlsVerify: boolean; authFile?: string },
): Promise<TagEngine> {
  // auto never picks imagetools for a registry without TLS verification, which imagetools cannot skip.
  const useImagetools =
    engine === 'imagetools' ||
    (engine === 'auto' && options.tlsVerify && (await Imagetools.available(ctx.runner, ctx.env)));
  if (!useImagetools) {
    const skopeo = new Skopeo(ctx.runner, {
      ...options,
      env: ctx.env,
      onRetry: (message) => ctx.info(`Retrying: ${message}`),
    });
    await skopeo.version();
    return skopeo;
  }
  if (!options.tlsVerify) {
    throw new UserError(
      inputProblem(
        'engine',
        'imagetools cannot skip TLS verification for a single registry; with "tls-verify: false" use engine: skopeo',
      ),
    );
  }
  return new Imagetools(ctx.runner, {
    authFile: options.authFile,
    tempDir: ctx.tempDir,
    env: ctx.env,
    onRetry: (message) => ctx.info(`Retrying: ${message}`),
  });
}
