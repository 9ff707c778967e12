import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  maskSecretInputs,
  md,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import { digestInput, imageInput, platformsInput } from '@golden-image/oci';
import { registryInputSpec, withAuthFile } from '@golden-image/oci-registry';
import {
  checkCosignRequest,
  checkKeyInputs,
  choosePolicyKind,
  defaultImageReferences,
  describeBinding,
  type IdTokenFetcher,
  identityInput,
  identityRegExpInput,
  installCosign,
  isPublicGood,
  issuerInput,
  keyInput,
  noWhitespace,
  POLICY_KIND_CHOICES,
  policyKindProblem,
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
  platforms: platformsInput(),
  key: keyInput(),
  verify: booleanInput(true),
  'certificate-identity': identityInput(),
  'certificate-identity-regexp': identityRegExpInput(),
  'certificate-oidc-issuer': issuerInput(),
  ...sourceInputSpec(),
  ...sigstoreInputSpec(),
  'policy-image-references': listInput({ check: noWhitespace('an image reference pattern') }),
  'policy-identity-match': enumInput(['exact', 'any-ref'] as const, 'exact'),
  'kyverno-policy-kind': enumInput(POLICY_KIND_CHOICES, 'auto'),
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
  checkPolicyInputs(input);
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
      // Keyless: the identity is worked out (and checked) before signing. A key: its public half is derived while
      // cosign signs (signDigest awaits it).
      const signer = signerFromInputs(ctx, cosign, input, deps.fetchIdToken);
      return signDigest(ctx, cosign, {
        image: input.image,
        digest: input.digest,
        recursive: input.recursive,
        platforms: input.platforms,
        key: input.key,
        verify: input.verify,
        signer: input.key ? signer : await signer,
        imageReferences: references.length > 0 ? references : defaultImageReferences(input.image),
        identityMatch: input['policy-identity-match'],
        policyKind: input['kyverno-policy-kind'],
        policyFile: input['kyverno-policy-file'],
      });
    }),
  );

  for (const note of result.notes) ctx.warning(note);
  ctx.output('digest', input.digest);
  ctx.output('signature', result.signature);
  ctx.output('bundle-format', input['bundle-format']);
  ctx.output('certificate-identity', result.identityRegExp ? '' : (result.identity ?? ''));
  ctx.output('certificate-identity-regexp', result.identityRegExp ? (result.identity ?? '') : '');
  ctx.output('certificate-oidc-issuer', result.issuer ?? '');
  ctx.output('source-repository', result.source?.repository ?? '');
  ctx.output('source-ref', result.source?.ref ?? '');
  ctx.output('source-trigger', result.source?.trigger ?? '');
  ctx.output('public-key', result.verifyKey ?? '');
  ctx.output('verify-command', result.verifyCommand);
  ctx.output('kyverno-policy', result.policyFile);
  ctx.output('kyverno-policy-kind', result.policyKind ?? '');
  ctx.info(`Signed ${result.imageRef}; verify with: ${result.verifyCommand}`);
  await ctx.summary(summary(result, input['bundle-format'], isPublicGood(sigstoreInstanceOf(input))));
}

/** Before anything runs: the policy inputs that cannot go together. */
function checkPolicyInputs(input: {
  key?: string;
  'bundle-format': 'legacy' | 'new';
  'transparency-log': boolean;
  'kyverno-policy-kind': (typeof POLICY_KIND_CHOICES)[number];
  'certificate-identity-regexp'?: string;
  'policy-identity-match': 'exact' | 'any-ref';
}): void {
  const { refused } = choosePolicyKind(input['kyverno-policy-kind'], {
    signer: input.key ? 'key' : 'keyless',
    bundleFormat: input['bundle-format'],
    transparencyLog: input['transparency-log'],
  });
  if (refused) throw new UserError(`${policyKindProblem(refused)} Nothing was signed.`);
  if (input['certificate-identity-regexp'] && input['policy-identity-match'] === 'any-ref') {
    throw new UserError(
      inputProblem(
        'policy-identity-match',
        'any-ref widens an exact certificate-identity to any git ref; with certificate-identity-regexp the policy uses your pattern as given (subjectRegExp), so leave policy-identity-match at exact',
      ),
    );
  }
}

function summary(result: SignDigestResult, bundleFormat: string, publicGood: boolean): string {
  const signer: [string, string][] = result.identity
    ? [
        [result.identityRegExp ? 'Certificate identity (pattern)' : 'Certificate identity', md.code(result.identity)],
        ['OIDC issuer', md.code(result.issuer ?? '')],
        [
          'Verification binds',
          md.code(
            describeBinding({
              identity: result.identity,
              identityRegExp: result.identityRegExp,
              issuer: result.issuer ?? '',
              source: result.source,
            }),
          ),
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
      ...(result.alsoSigned.length > 0
        ? ([
            [
              'Also signed',
              `${result.alsoSigned.map((ref) => md.code(ref)).join(', ')} (the platform manifests; attestation manifests are covered by the index's signature)`,
            ],
          ] as [string, string][])
        : []),
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
      ? [md.heading(`Kyverno ${result.policyKind} (${result.policyFile})`, 3), md.codeBlock(result.policy, 'yaml')]
      : []),
  ].join('\n');
}
