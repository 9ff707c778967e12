import { join } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  listInput,
  maskSecretInputs,
  md,
  optionalString,
  parseInputs,
} from '@golden-image/kit';
import { digestInput, imageInput } from '@golden-image/oci';
import { registryInputSpec, withAuthFile } from '@golden-image/oci-registry';
import {
  checkCosignRequest,
  checkKeyInputs,
  defaultImageReferences,
  describeBinding,
  type IdTokenFetcher,
  identityInput,
  installCosign,
  isPublicGood,
  issuerInput,
  keyInput,
  noWhitespace,
  prepareSigningCredentials,
  registryFlags,
  type SignDigestResult,
  signDigest,
  signerFromInputs,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
} from '@golden-image/signing';
import { type ensureTool, toolInputSpec, toolRequest } from '@golden-image/tools';

export const inputs = {
  image: imageInput(),
  digest: digestInput(),
  'bundle-format': enumInput(['legacy', 'new'] as const, 'legacy'),
  recursive: booleanInput(true),
  key: keyInput(),
  verify: booleanInput(true),
  'certificate-identity': identityInput(),
  'certificate-oidc-issuer': issuerInput(),
  ...sourceInputSpec(),
  ...sigstoreInputSpec(),
  'policy-image-references': listInput({ check: noWhitespace('an image reference pattern') }),
  'policy-identity-match': enumInput(['exact', 'any-ref'] as const, 'exact'),
  'kyverno-policy-file': optionalString(),
  ...registryInputSpec(),
  ...toolInputSpec('cosign'),
};

/** `fetchIdToken` is for tests; the action fetches the token from the runner as @actions/core does. */
export async function main(
  ctx: ActionContext,
  deps: { fetchIdToken?: IdTokenFetcher; installTool?: typeof ensureTool } = {},
): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  checkKeyInputs(input, 'signing');
  const request = toolRequest('cosign', input);
  checkCosignRequest(request, input['bundle-format']);
  prepareSigningCredentials(ctx, input.key);

  const cosign = await installCosign(
    ctx,
    request,
    {
      bundleFormat: input['bundle-format'],
      instance: sigstoreInstanceOf(input),
      registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
    },
    deps.installTool,
  );
  const references = input['policy-image-references'];
  const result = await withAuthFile(ctx, input.image, input, (authFile) =>
    cosign.withRegistryAuth(authFile, async (cosign) => {
      // The version first: a cosign that cannot sign this format is refused before a key or token is touched.
      await cosign.requireSigningFormat();
      return signDigest(ctx, cosign, {
        image: input.image,
        digest: input.digest,
        recursive: input.recursive,
        key: input.key,
        verify: input.verify,
        signer: await signerFromInputs(ctx, cosign, input, deps.fetchIdToken),
        imageReferences: references.length > 0 ? references : defaultImageReferences(input.image),
        identityMatch: input['policy-identity-match'],
        policyFile: input['kyverno-policy-file'] ?? join(ctx.tempDir, 'sign-digest', 'kyverno-clusterpolicy.yaml'),
      });
    }),
  );

  for (const note of result.notes) ctx.warning(note);
  ctx.output('digest', input.digest);
  ctx.output('signature', result.signature);
  ctx.output('bundle-format', input['bundle-format']);
  ctx.output('certificate-identity', result.identity ?? '');
  ctx.output('certificate-oidc-issuer', result.issuer ?? '');
  ctx.output('source-repository', result.source?.repository ?? '');
  ctx.output('source-ref', result.source?.ref ?? '');
  ctx.output('source-trigger', result.source?.trigger ?? '');
  ctx.output('public-key', result.verifyKey ?? '');
  ctx.output('verify-command', result.verifyCommand);
  ctx.output('kyverno-policy', result.policyFile);
  ctx.info(`Signed ${result.imageRef}; verify with: ${result.verifyCommand}`);
  await ctx.summary(summary(result, input['bundle-format'], isPublicGood(sigstoreInstanceOf(input))));
}

function summary(result: SignDigestResult, bundleFormat: string, publicGood: boolean): string {
  const signer: [string, string][] = result.identity
    ? [
        ['Certificate identity', md.code(result.identity)],
        ['OIDC issuer', md.code(result.issuer ?? '')],
        [
          'Verification binds',
          md.code(describeBinding({ identity: result.identity, issuer: result.issuer ?? '', source: result.source })),
        ],
      ]
    : [['Key', md.code(result.verifyKey ?? '')]];
  if (!publicGood)
    signer.push(['Sigstore instance', 'private (fulcio-url, rekor-url, transparency-log, ct-log, trust root inputs)']);
  if (result.caller)
    signer.push(['Called from', `${md.code(result.caller)} (the certificate names the reusable workflow)`]);
  return [
    md.heading('sign-digest'),
    md.facts([
      ['Signed', md.code(result.imageRef)],
      ...signer,
      ['Signature', md.code(result.signature)],
      ['Format', `${bundleFormat} (cosign ${result.version.text})`],
      ['Verified after signing', result.verified ? 'yes' : 'no (verify: false)'],
    ]),
    '',
    ...result.notes.map((note) => `> ${note}\n`),
    md.heading('Verify it yourself', 3),
    md.codeBlock(result.verifyCommand, 'sh'),
    ...(result.policy
      ? [md.heading(`Kyverno ClusterPolicy (${result.policyFile})`, 3), md.codeBlock(result.policy, 'yaml')]
      : []),
  ].join('\n');
}
