import { join } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  md,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import { digestInput, imageInput } from '@golden-image/oci';
import {
  defaultImageReferences,
  type IdTokenFetcher,
  identityInput,
  isKmsUri,
  issuerInput,
  keyInput,
  noWhitespace,
  registryFlags,
  requireGithubOidc,
  type SignDigestResult,
  signDigest,
} from '@golden-image/signing';
import { ensureTool, toolInputSpec, toolRequest } from '@golden-image/tools';

export const inputs = {
  image: imageInput(),
  digest: digestInput(),
  'bundle-format': enumInput(['legacy', 'new'] as const, 'legacy'),
  recursive: booleanInput(true),
  key: keyInput(),
  verify: booleanInput(true),
  'certificate-identity': identityInput(),
  'certificate-oidc-issuer': issuerInput(),
  'policy-image-references': listInput({ check: noWhitespace('an image reference pattern') }),
  'policy-identity-match': enumInput(['exact', 'any-ref'] as const, 'exact'),
  'kyverno-policy-file': optionalString(),
  'tls-verify': booleanInput(true),
  ...toolInputSpec('cosign'),
};

/** `fetchIdToken` is for tests; the action fetches the token from the runner as @actions/core does. */
export async function main(ctx: ActionContext, deps: { fetchIdToken?: IdTokenFetcher } = {}): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  const key = input.key;
  if (key && (input['certificate-identity'] || input['certificate-oidc-issuer'])) {
    throw new UserError(
      inputProblem(
        'key',
        'key-based signing is verified with the key; leave certificate-identity and certificate-oidc-issuer empty',
      ),
    );
  }
  const request = toolRequest('cosign', input);
  // With install-tools: false the version is only known once cosign runs; signDigest checks it then.
  if (input['bundle-format'] === 'new' && request.install && Number((request.version ?? '2').split('.')[0]) < 3) {
    throw new UserError(
      inputProblem(
        'bundle-format',
        '"new" needs cosign v3; set cosign-version to a v3 release (for example 3.1.3), or use legacy',
      ),
    );
  }
  if (!key) requireGithubOidc(ctx.env);
  else if (ctx.env.COSIGN_PASSWORD) ctx.secret(ctx.env.COSIGN_PASSWORD);
  else if (!isKmsUri(key)) ctx.info('COSIGN_PASSWORD is not set: cosign will use an empty key password.');

  const cosign = await ensureTool(ctx, request);
  const references = input['policy-image-references'];
  const result = await signDigest(ctx, cosign, {
    image: input.image,
    digest: input.digest,
    bundleFormat: input['bundle-format'],
    recursive: input.recursive,
    key,
    verify: input.verify,
    identity: input['certificate-identity'],
    issuer: input['certificate-oidc-issuer'],
    imageReferences: references.length > 0 ? references : defaultImageReferences(input.image),
    identityMatch: input['policy-identity-match'],
    policyFile: input['kyverno-policy-file'] ?? join(ctx.tempDir, 'sign-digest', 'kyverno-clusterpolicy.yaml'),
    registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
    fetchIdToken: deps.fetchIdToken,
  });

  ctx.output('digest', input.digest);
  ctx.output('signature', result.signature);
  ctx.output('certificate-identity', result.identity ?? '');
  ctx.output('certificate-oidc-issuer', result.issuer ?? '');
  ctx.output('public-key', result.verifyKey ?? '');
  ctx.output('verify-command', result.verifyCommand);
  ctx.output('kyverno-policy', result.policyFile);
  ctx.info(`Signed ${result.imageRef}; verify with: ${result.verifyCommand}`);
  await ctx.summary(summary(result, input['bundle-format']));
}

function summary(result: SignDigestResult, bundleFormat: string): string {
  const signer: [string, string][] = result.identity
    ? [
        ['Certificate identity', md.code(result.identity)],
        ['OIDC issuer', md.code(result.issuer ?? '')],
      ]
    : [['Key', md.code(result.verifyKey ?? '')]];
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
    md.heading('Verify it yourself', 3),
    md.codeBlock(result.verifyCommand, 'sh'),
    md.heading(`Kyverno ClusterPolicy (${result.policyFile})`, 3),
    md.codeBlock(result.policy, 'yaml'),
  ].join('\n');
}
