// Keyless for real: a test OIDC issuer answering the GitHub Actions token endpoint (cosign's own GitHub provider runs),
// a real Fulcio (ephemeral CA, no CT log), no Rekor, the real cosign v2 and v3. Repository A and repository B both
// call the same reusable workflow, so their certificates carry the same identity: every verification the suite
// performs or prints must still tell them apart by the source repository.
import { spawnSync } from 'node:child_process';
import { UserError } from '@golden-image/kit';
import { Cosign, verifySignature } from '@golden-image/signing';
import {
  createTestContext,
  githubClaims,
  type OidcIssuer,
  realTool,
  startFulcio,
  startOidcIssuer,
  startRegistry,
  type TestFulcio,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  cleanEnv,
  pushImage,
  type RealCosign,
  realCosigns,
  runCosign,
  runPromoteTags,
  runSignDigest,
  tagDigest,
  useCosign,
} from './real-harness.js';

const fulcioBin = realTool('fulcio', ['version']);
const cosigns = fulcioBin ? realCosigns() : [];
const REUSABLE = 'golden-image/golden-image/.github/workflows/docker-publish.yml@refs/tags/v1';
const A = 'octo-org/app';
const B = 'evil-org/fork';

let registry: TestRegistry;
let issuer: OidcIssuer;
let fulcio: TestFulcio;
beforeAll(async () => {
  if (cosigns.length === 0) return;
  registry = await startRegistry();
  issuer = await startOidcIssuer();
  fulcio = await startFulcio(fulcioBin as string, issuer.url);
});
afterAll(async () => {
  await Promise.all([registry?.stop(), fulcio?.stop(), issuer?.close()]);
});

/** v2 signs the legacy format only (sign-digest refuses its bundles); v3 signs both. */
const cases = cosigns.flatMap((cosign) =>
  (cosign.name === 'v2' ? (['legacy'] as const) : (['legacy', 'new'] as const)).map((format) => ({
    label: `cosign ${cosign.name}, ${format} format`,
    cosign,
    format,
  })),
);
const each =
  cases.length > 0
    ? describe.each(cases)
    : describe.skip.each([{ label: 'none', cosign: { name: 'v2', bin: '' } as RealCosign, format: 'legacy' as const }]);

each('$label', ({ cosign, format }) => {
  let restore: () => void;
  beforeAll(() => {
    restore = useCosign(cosign);
  });
  afterAll(() => restore?.());

  /** The private instance: our Fulcio, no transparency log, no CT log. */
  const instance = () => ({
    'fulcio-url': fulcio.url,
    'transparency-log': 'false',
    'ct-log': 'false',
    'certificate-chain': fulcio.chainFile,
    'bundle-format': format,
  });
  /** A job of `repository`: its OIDC token (direct, or through the reusable workflow) and GITHUB_REPOSITORY. */
  const job = (repository: string, reusable = true) =>
    cleanEnv(cosign, {
      ...issuer.actionsEnv(githubClaims({ repository, ...(reusable ? { reusableWorkflow: REUSABLE } : {}) })),
      GITHUB_REPOSITORY: repository,
    });
  const pasted = (command: string, env: NodeJS.ProcessEnv) =>
    spawnSync('sh', ['-c', command], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  test('a direct workflow signs and verifies; its outputs and verify-command bind the repository', async () => {
    const signed = await pushImage(
      registry,
      `keyless/direct-${cosign.name}-${format}`,
      `direct-${cosign.name}-${format}`,
    );
    const run = await runSignDigest({ image: signed.image, digest: signed.digest, ...instance() }, job(A, false));
    expect(run.error).toBeUndefined();
    expect(run.recorded.outputs).toMatchObject({
      'certificate-identity': `https://github.com/${A}/.github/workflows/release.yml@refs/heads/main`,
      'certificate-oidc-issuer': issuer.url,
      'source-repository': A,
    });
    const command = run.recorded.outputs['verify-command'] ?? '';
    expect(command).toContain(`--certificate-github-workflow-repository ${A}`);
    // with the token requests of both sign-digest's prediction and cosign's own GitHub provider served
    expect(issuer.tokenRequests.filter((audience) => audience === 'sigstore').length).toBeGreaterThanOrEqual(2);
    const verified = pasted(command, cleanEnv(cosign));
    expect({ status: verified.status, stderr: verified.status ? verified.stderr : '' }).toEqual({
      status: 0,
      stderr: '',
    });
    if (format === 'new') {
      // no Kyverno policy can bind the repository of a keyless bundle, so none is written
      expect(run.recorded.outputs['kyverno-policy']).toBe('');
      expect(run.recorded.warnings.join('\n')).toContain('No Kyverno policy was written');
    }
  });

  test("through the same reusable workflow: A's verify-command and A's promote-tags refuse B's signature, no tag moved; A's own passes", async () => {
    const repository = `keyless/reusable-${cosign.name}-${format}`;
    const ours = await pushImage(registry, repository, `reusable-a-${cosign.name}-${format}`);
    const theirs = await pushImage(registry, repository, `reusable-b-${cosign.name}-${format}`);
    const byA = await runSignDigest({ image: ours.image, digest: ours.digest, ...instance() }, job(A));
    expect(byA.error).toBeUndefined();
    const byB = await runSignDigest({ image: theirs.image, digest: theirs.digest, ...instance() }, job(B));
    expect(byB.error).toBeUndefined();
    const identity = byA.recorded.outputs['certificate-identity'] ?? '';
    expect(identity).toBe(`https://github.com/${REUSABLE}`);
    expect(byB.recorded.outputs['certificate-identity']).toBe(identity);
    expect(byB.recorded.outputs['source-repository']).toBe(B);

    // A's verify-command, pointed at B's digest: refused, for the source repository
    const commandA = byA.recorded.outputs['verify-command'] ?? '';
    expect(pasted(commandA, cleanEnv(cosign)).status).toBe(0);
    const againstB = pasted(commandA.replace(ours.digest, theirs.digest), cleanEnv(cosign));
    expect(againstB.status).not.toBe(0);
    expect(againstB.stderr).toMatch(
      /GitHub Workflow Repository not found|expected GithubWorkflowRepository to be "octo-org\/app", got "evil-org\/fork"/,
    );
    // identity and issuer alone would have passed it: the source repository is what refuses it
    const unbound = pasted(
      commandA.replace(ours.digest, theirs.digest).replace(`--certificate-github-workflow-repository ${A} `, ''),
      cleanEnv(cosign),
    );
    expect({ status: unbound.status, stderr: unbound.status ? unbound.stderr : '' }).toEqual({ status: 0, stderr: '' });

    // A's promote-tags: B's digest refused, no tag moved; A's promoted
    const promoteInputs = {
      image: ours.image,
      tags: 'latest',
      'certificate-identity': identity,
      'certificate-oidc-issuer': issuer.url,
      ...instance(),
    };
    const refused = await runPromoteTags({ ...promoteInputs, digest: theirs.digest }, job(A));
    expect(refused.error?.message).toMatch(
      /Signature check failed .*: it is signed by that identity, but from another source repository/s,
    );
    expect(refused.error?.message).toContain(`source repository ${A}`);
    expect(tagDigest(`${ours.image}:latest`)).toBeUndefined();
    expect(refused.recorded.logs.join('\n')).toContain(
      `source repository ${A}; not bound: ref, trigger (source repository from GITHUB_REPOSITORY`,
    );
    const promoted = await runPromoteTags({ ...promoteInputs, digest: ours.digest }, job(A));
    expect(promoted.error).toBeUndefined();
    expect(tagDigest(`${ours.image}:latest`)).toBe(ours.digest);

    // given only identity and issuer, with no repository known: told plainly what is not bound, and B passes
    const { GITHUB_REPOSITORY: _, ...noRepository } = job(A);
    const loose = await runPromoteTags({ ...promoteInputs, digest: theirs.digest, tags: 'loose' }, noRepository);
    expect(loose.error).toBeUndefined();
    expect(loose.recorded.warnings.join('\n')).toMatch(
      /binds only identity .*; not bound: source repository, ref, trigger\. .*every repository that calls it/s,
    );
  });

  test('a tag instead of a digest is refused, by the verification and by the inputs', async () => {
    const signed = await pushImage(registry, `keyless/tag-${cosign.name}-${format}`, `tag-${cosign.name}-${format}`);
    const env = job(A);
    const { ctx } = createTestContext({}, { env });
    await expect(
      verifySignature(ctx, new Cosign(ctx, cosign.bin), {
        imageRef: `${signed.image}:${signed.tag}`,
        identity: `https://github.com/${REUSABLE}`,
        issuer: issuer.url,
        source: { repository: A },
      }),
    ).rejects.toThrow(UserError);
    const bySign = await runSignDigest({ image: signed.image, digest: signed.tag, ...instance() }, env);
    expect(bySign.error?.message).toMatch(/^Input "digest"/);
    const byPromote = await runPromoteTags(
      {
        image: signed.image,
        digest: signed.tag,
        tags: 'latest',
        'certificate-identity': 'x',
        'certificate-oidc-issuer': issuer.url,
      },
      env,
    );
    expect(byPromote.error?.message).toMatch(/^Input "digest"/);
    // and nothing was signed: the real cosign finds no signature on the digest the tag names
    const check = runCosign(
      cosign,
      [
        'verify',
        '--certificate-identity-regexp',
        '.*',
        '--certificate-oidc-issuer-regexp',
        '.*',
        '--certificate-chain',
        fulcio.chainFile,
        '--insecure-ignore-tlog',
        '--insecure-ignore-sct',
        `${signed.image}@${signed.digest}`,
      ],
      cleanEnv(cosign),
    );
    expect(check.status).toBe(10);
  });
});
