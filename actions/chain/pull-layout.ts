import { join } from 'node:path';
import { type ActionContext, checkedString, parseInputs, requiredString } from '@golden-image/kit';
import { digestProblem, verifyLayout } from '@golden-image/oci';
import { registryInputSpec, Skopeo, withAuthFile } from '@golden-image/oci-registry';

/**
 * A step of the root action only: a resumed release has no layout of its own, so the bytes an earlier attempt
 * pushed are copied back by digest and verified (every blob hashed) for scan-layout and attest-evidence. The
 * evidence is then made from exactly the released bytes; nothing is built.
 */
export const inputs = {
  image: requiredString('the image an earlier attempt pushed'),
  digest: checkedString(digestProblem, 'the digest an earlier attempt pushed'),
  ...registryInputSpec(),
};

export async function main(ctx: ActionContext): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  const layoutPath = join(ctx.tempDir, 'golden-image-resumed-layout');
  await withAuthFile(ctx, input.image, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, { tlsVerify: input['tls-verify'], authFile, env: ctx.env });
    await ctx.group(`Copy ${input.image}@${input.digest} back from the registry`, () =>
      skopeo.pullToLayout(input.image, input.digest, layoutPath),
    );
  });
  const layout = await verifyLayout(layoutPath, input.digest, { layers: 'digest' });
  ctx.info(`${layout.path} holds ${layout.digest}: every blob hashed to its name.`);
  ctx.output('layout-path', layout.path);
  ctx.output('digest', layout.digest);
}
