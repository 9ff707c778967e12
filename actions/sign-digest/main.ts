import { join } from 'node:path';
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
import { digestInput, imageInput } from '@golden-image/oci';
import { registryInputSpec, withAuthFile } from '@golden-image/oci-registry';
import {
  cosignV3Fallback,
  defaultImageReferences,
  describeBinding,
  type IdTokenFetcher,
  identityInput,
  isKmsUri,
  isPublicGood,
  issuerInput,
  keyInput,
  noWhitespace,
  registryFlags,
  requireGithubOidc,
  type SignDigestResult,
  signDigest,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
  withCosignAuth,
} from '@golden-image/signing';
import { ensureTool, PINS, toolInputSpec, toolRequest } from '@golden-image/tools';

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
export async function main(ctx: ActionContext, deps: { fetchIdToken?: IdTokenFetcher } = {}): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  const key = input.key;
  const keylessOnly = [
    'certificate-identity',
    'certificate-oidc-issuer',
    'source-repository',
    'source-ref',
    'source-trigger',
    'fulcio-url',
  ] as const;
  const misplaced = keylessOnly.filter((name) => input[name]);
  if (key && misplaced.length > 0) {
    throw new UserError(
      inputProblem('key', `key-based signing is verified with the key; leave ${misplaced.join(', ')} empty`),
    );
  }
  const request = toolRequest('cosign', input);
  // With install-tools: false the version is only known once cosign runs; signDigest checks it then.
  const major = Number((request.version ?? PINS.cosign.defaultVersion).split('.')[0]);
  if (input['bundle-format'] === 'new' && request.install && major < 3) {
    throw new UserError(
      inputProblem(
        'bundle-format',
        '"new" needs cosign v3 to sign (cosign 2.6 writes bundles Kyverno cannot find); set cosign-version to a v3 release (for example 3.1.3), or use legacy',
      ),
    );
  }
  if (!key) requireGithubOidc(ctx.env);
  else if (ctx.env.COSIGN_PASSWORD) ctx.secret(ctx.env.COSIGN_PASSWORD);
  else if (!isKmsUri(key)) ctx.info('COSIGN_PASSWORD is not set: cosign will use an empty key password.');

  const cosign = await ensureTool(ctx, request);
  const references = input['policy-image-references'];
  const result = await withAuthFile(ctx, input.image, input, (authFile) =>
    withCosignAuth(ctx, authFile, (env) =>
      signDigest(ctx, cosign, {
        image: input.image,
        digest: input.digest,
        bundleFormat: input['bundle-format'],
        recursive: input.recursive,
        key,
        verify: input.verify,
        identity: input['certificate-identity'],
        issuer: input['certificate-oidc-issuer'],
        source: {
          repository: input['source-repository'],
          ref: input['source-ref'],
          trigger: input['source-trigger'],
        },
        instance: sigstoreInstanceOf(input),
        imageReferences: references.length > 0 ? references : defaultImageReferences(input.image),
        identityMatch: input['policy-identity-match'],
        policyFile: input['kyverno-policy-file'] ?? join(ctx.tempDir, 'sign-digest', 'kyverno-clusterpolicy.yaml'),
        registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
        env,
        fallbackCosign: cosignV3Fallback(ctx, request),
        fetchIdToken: deps.fetchIdToken,
      }),
    ),
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
