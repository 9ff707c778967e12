import { mkdir, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ActionContext, inputProblem, listInput, md, parseInputs, UserError } from '@golden-image/kit';
import { digestProblem, mergeLayouts } from '@golden-image/oci';

export const inputs = {
  'layout-paths': listInput({ lines: true, required: 'one OCI layout directory per line (the layout-path outputs)' }),
  digests: listInput({
    lines: true,
    required: 'the digest output of each build, one per line, in the order of layout-paths',
    check: digestProblem,
  }),
};

/**
 * Merges per-platform layouts into one layout whose index lists every platform and attestation manifest of the
 * inputs, each verified against the digest its build handed on.
 */
export async function main(ctx: ActionContext): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  const paths = input['layout-paths'];
  const digests = input.digests;
  if (paths.length !== digests.length) {
    throw new UserError(
      inputProblem(
        'digests',
        `has ${digests.length} entries but layout-paths has ${paths.length}; give one digest per layout, in the same order`,
      ),
    );
  }
  const workspace = ctx.env.GITHUB_WORKSPACE || process.cwd();
  await mkdir(ctx.tempDir, { recursive: true });
  const dest = await mkdtemp(join(ctx.tempDir, 'golden-image-merged-'));

  const merged = await ctx.group(`Verify and merge ${paths.length} layouts`, () =>
    mergeLayouts(
      paths.map((path, i) => ({ path: resolve(workspace, path), digest: digests[i] as string })),
      dest,
      { log: (message) => ctx.info(message) },
    ),
  );
  for (const manifest of merged.manifests) {
    const what = manifest.attestation ? `attestation of ${manifest.subject ?? 'an image'}` : manifest.platform;
    ctx.info(`${what}: ${manifest.digest} from input ${manifest.input} (${manifest.inputPath})`);
  }
  ctx.info(
    `${merged.path} holds ${merged.digest}: ${merged.linked} blobs hard-linked, ${merged.copied} copied, none rewritten.`,
  );

  ctx.output('layout-path', merged.path);
  ctx.output('digest', merged.digest);
  ctx.output('platforms', JSON.stringify(merged.platforms));
  const platformOf = new Map(merged.manifests.map((m) => [m.digest, m.platform]));
  await ctx.summary(
    [
      md.heading('merge-layouts'),
      `Merged ${paths.length} verified layouts into ${md.code(merged.digest)}.\n`,
      md.table(
        ['platform', 'from', 'manifest'],
        merged.manifests.map((m) => [
          m.attestation ? `attestation of ${platformOf.get(m.subject ?? '') ?? 'unknown'}` : m.platform,
          `input ${m.input}: ${m.inputPath}`,
          m.digest,
        ]),
      ),
      '',
      `${merged.linked} blobs hard-linked, ${merged.copied} copied; no manifest was rewritten.\n`,
    ].join('\n'),
  );
}
