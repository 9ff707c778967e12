// Keyless attestations with a real Fulcio (ephemeral CA, no CT log, no Rekor), a test OIDC issuer answering the
// GitHub Actions token endpoint, and the real cosign v2 and v3: repository A's evidence verifies for A; evidence
// made through the same reusable workflow by repository B does not.
import { readFileSync } from 'node:fs';
import {
  cleanAlpineSampleLayout,
  githubClaims,
  kyvernoApply,
  type OidcIssuer,
  realTool,
  realTools,
  startFulcio,
  startOidcIssuer,
  startRegistry,
  type TestFulcio,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as promoteTags } from '../../promote-tags/main.js';
import { type RealCosign, realCosigns } from '../../sign-digest/test/real-harness.js';
import { attest, digestOf, job, releaseUnattested, runIn, verifyByHand } from './real-harness.js';

const tools = realTools('syft', 'trivy');
const fulcioBin = tools ? realTool('fulcio', ['version']) : undefined;
const kyverno = fulcioBin ? realTool('kyverno', ['version']) : undefined;
const cosigns = fulcioBin ? realCosigns() : [];
const REUSABLE = 'golden-image/golden-image/.github/workflows/docker-publish.yml@refs/tags/v1';
const IDENTITY = `https://github.com/${REUSABLE}`;

let registry: TestRegistry;
let issuer: OidcIssuer;
let fulcio: TestFulcio;
beforeAll(async () => {
  if (!fulcioBin) return;
  registry = await startRegistry();
  issuer = await startOidcIssuer();
  fulcio = await startFulcio(fulcioBin, issuer.url);
});
afterAll(async () => {
  await Promise.all([registry?.stop(), fulcio?.stop(), issuer?.close()]);
});

const maybe = cosigns.length > 0 ? describe : describe.skip;

maybe.each(cosigns.length > 0 ? cosigns : [{ name: 'v2', bin: '' } as RealCosign])(
  'keyless, cosign $name',
  (cosign) => {
    const instance = () => ({
      'fulcio-url': fulcio.url,
      'transparency-log': 'false',
      'ct-log': 'false',
      'certificate-chain': fulcio.chainFile,
    });
    const repoJob = (repository: string) =>
      job(cosign, tools as { syft: string; trivy: string }, {
        ...issuer.actionsEnv(githubClaims({ repository, reusableWorkflow: REUSABLE })),
        GITHUB_REPOSITORY: repository,
      });
    const byHand = (image: string, digest: string, type: string, repository: string, env: NodeJS.ProcessEnv) =>
      verifyByHand(
        cosign,
        [
          '--certificate-identity',
          IDENTITY,
          '--certificate-oidc-issuer',
          issuer.url,
          '--certificate-github-workflow-repository',
          repository,
          '--certificate-chain',
          fulcio.chainFile,
          '--insecure-ignore-tlog',
          '--insecure-ignore-sct',
          ...(cosign.name === 'v3' ? ['--new-bundle-format=false'] : []),
          '--type',
          type,
          `${image}@${digest}`,
        ],
        env,
      );

    test("A's evidence verifies for A's identity and source repository; B's, through the same reusable workflow, does not", async () => {
      const a = repoJob('octo-org/app');
      const layout = await cleanAlpineSampleLayout();
      const released = await releaseUnattested(a, registry, layout, `keyless/${cosign.name}`, instance());
      const own = await attest(a, {
        image: released.image,
        digest: released.digest,
        'layout-path': layout.path,
        report: released.report,
        ...instance(),
      });
      expect(own.error).toBeUndefined();
      expect(own.recorded.outputs['verify-command']).toContain('--certificate-github-workflow-repository octo-org/app');
      for (const type of ['vuln', 'cyclonedx']) {
        const verified = byHand(released.image, released.digest, type, 'octo-org/app', a.env);
        expect({ type, status: verified.status, stderr: verified.status ? verified.stderr : '' }).toEqual({
          type,
          status: 0,
          stderr: '',
        });
        expect(byHand(released.image, released.digest, type, 'evil-org/fork', a.env).status).not.toBe(0);
      }

      // B attests another digest A signed, through the same reusable workflow: B's own check passes, A's refuses it
      const b = repoJob('evil-org/fork');
      const other = await cleanAlpineSampleLayout(undefined, { platforms: ['linux/amd64'] });
      const signedByA = await releaseUnattested(a, registry, other, `keyless/${cosign.name}-b`, instance());
      const theirs = await attest(b, {
        image: signedByA.image,
        digest: signedByA.digest,
        'layout-path': other.path,
        report: signedByA.report,
        ...instance(),
      });
      expect(theirs.error).toBeUndefined();
      expect(byHand(signedByA.image, signedByA.digest, 'vuln', 'evil-org/fork', a.env).status).toBe(0);
      const refused = byHand(signedByA.image, signedByA.digest, 'vuln', 'octo-org/app', a.env);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(
        /expected GitHub Workflow Repository not found|none of the attestations matched|no matching attestations/i,
      );
    });

    (kyverno ? test : test.skip)(
      "Kyverno and promote-tags with A's policy: A's evidence admitted and promoted; B's evidence on A's signed digest refused, no tag moved",
      async () => {
        const a = repoJob('octo-org/app');
        const b = repoJob('evil-org/fork');
        const ours = await cleanAlpineSampleLayout();
        const theirs = await cleanAlpineSampleLayout(undefined, { platforms: ['linux/arm64'] });
        const good = await releaseUnattested(a, registry, ours, `keyless-admission/${cosign.name}-a`, instance());
        // each release is attested before the next one: scan-layout's report is one file per job
        const attestedByA = await attest(a, {
          image: good.image,
          digest: good.digest,
          'layout-path': ours.path,
          report: good.report,
          'kyverno-policy': good.policy,
          ...instance(),
        });
        expect(attestedByA.error).toBeUndefined();
        const bad = await releaseUnattested(a, registry, theirs, `keyless-admission/${cosign.name}-b`, instance());
        const attestedByB = await attest(b, {
          image: bad.image,
          digest: bad.digest,
          'layout-path': theirs.path,
          report: bad.report,
          ...instance(),
        });
        expect(attestedByB.error).toBeUndefined();
        // A's policy names its own image; the same attestors and conditions are checked for the other image
        const policyA = readFileSync(attestedByA.recorded.outputs['kyverno-policy'] as string, 'utf8');
        const admitted = kyvernoApply(kyverno as string, policyA, `${good.image}@${good.digest}`);
        expect({ admitted: admitted.admitted, output: admitted.admitted ? '' : admitted.output }).toEqual({
          admitted: true,
          output: '',
        });
        const policyForB = policyA.replaceAll(good.image, bad.image);
        const refused = kyvernoApply(kyverno as string, policyForB, `${bad.image}@${bad.digest}`);
        expect(refused.admitted).toBe(false);
        expect(refused.output).toMatch(/attestations verification failed/);

        const promote = (release: typeof good) =>
          runIn(a, promoteTags, {
            image: release.image,
            digest: release.digest,
            tags: 'latest',
            engine: 'skopeo',
            'certificate-identity': IDENTITY,
            'certificate-oidc-issuer': issuer.url,
            'require-attestations': 'sbom,vuln',
            'install-tools': 'false',
            'tls-verify': 'false',
            ...instance(),
          });
        const promoted = await promote(good);
        expect(promoted.error).toBeUndefined();
        expect(digestOf(`${good.image}:latest`)).toBe(good.digest);
        const notPromoted = await promote(bad);
        expect(notPromoted.error?.message).toMatch(
          /No CycloneDX SBOM attestation .* verifies .*another source repository.*No tag was moved/s,
        );
        expect(digestOf(`${bad.image}:latest`)).toBeUndefined();
      },
    );
  },
);
