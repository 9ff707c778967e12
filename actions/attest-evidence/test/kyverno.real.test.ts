// The cluster side, with the real Kyverno CLI (kyverno apply), the real cosign, Syft and Trivy: the policy
// sign-digest writes, extended by attest-evidence, admits a Pod whose digest carries a fresh clean scan and an SBOM
// signed by the same key, and refuses a stale scan, a blocking finding, a missing SBOM, and evidence signed by
// another key. promote-tags refuses the same digests with no tag moved. Both forms where Kyverno 1.19.1 can verify
// the evidence offline:
// - legacy signatures and attestations (cosign v2), no transparency log: the ClusterPolicy. An ImageValidatingPolicy
//   refuses every attestation it verifies without a log (its cosign attestor fails with "cosign bundle verification
//   failed" whenever the log was ignored: the signature path has the exception, the attestation path has not), so it
//   refuses even the clean release: shown below, and why attest-evidence will not extend one there.
// - Sigstore bundles (cosign v3): both the ImageValidatingPolicy (its evidence conditions as CEL, what auto writes
//   for a key without a log) and the ClusterPolicy.
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_MAX_SCAN_AGE, requireEvidenceInPolicy } from '@golden-image/evidence';
import { buildPolicy, defaultImageReferences, type PolicyKind, policyYaml } from '@golden-image/signing';
import {
  alpineSampleLayout,
  cleanAlpineSampleLayout,
  kyvernoApply,
  realTool,
  realTools,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as promoteTags } from '../../promote-tags/main.js';
import { keyPair, type RealCosign, realCosigns } from '../../sign-digest/test/real-harness.js';
import { attest, digestOf, type Job, job, type Released, releaseUnattested, runIn } from './real-harness.js';

const tools = realTools('syft', 'trivy');
const kyverno = tools ? realTool('kyverno', ['version']) : undefined;
const cosigns = kyverno ? realCosigns() : [];
const PASSWORD = 'real-tier-key-passw0rd';
const REQUIREMENT = {
  kinds: ['sbom', 'vuln'] as ('sbom' | 'vuln')[],
  maxScanAge: DEFAULT_MAX_SCAN_AGE,
  blockSeverity: 'HIGH' as const,
};

interface Setup {
  format: 'legacy' | 'new';
  cosign?: RealCosign;
  /** The forms Kyverno 1.19.1 verifies this format's evidence with, offline. */
  kinds: PolicyKind[];
  /** What sign-digest is told (the chain tells it ClusterPolicy when it will attest legacy signatures without a log). */
  signAs: PolicyKind;
}
const SETUPS: Setup[] = [
  {
    format: 'legacy',
    cosign: cosigns.find((c) => c.name === 'v2') ?? cosigns[0],
    kinds: ['ClusterPolicy'],
    signAs: 'ClusterPolicy',
  },
  {
    format: 'new',
    cosign: cosigns.find((c) => c.name === 'v3'),
    kinds: ['ImageValidatingPolicy', 'ClusterPolicy'],
    signAs: 'ImageValidatingPolicy',
  },
];

const REFUSALS: Record<string, Record<PolicyKind, RegExp>> = {
  stale: {
    ClusterPolicy: /the scan result is older than 168h/,
    ImageValidatingPolicy: /the scan result is older than 168h: rescan the digest/,
  },
  critical: {
    ClusterPolicy: /the scan found CRITICAL findings/,
    ImageValidatingPolicy: /the scan found CRITICAL findings/,
  },
  'no sbom': {
    // legacy: the SBOM's type is missing; bundles: none of the bundles is an SBOM by the key
    ClusterPolicy:
      /attestions not found for predicate type https:\/\/cyclonedx.org\/bom|sigstore bundle verification failed: no matching signatures found/,
    ImageValidatingPolicy: /no CycloneDX SBOM attestation \(https:\/\/cyclonedx.org\/bom\) signed like the image/,
  },
  'other key': {
    ClusterPolicy: /no matching attestations|sigstore bundle verification failed: no matching signatures found/,
    ImageValidatingPolicy: /no CycloneDX SBOM attestation \(https:\/\/cyclonedx.org\/bom\) signed like the image/,
  },
};

describe.each(SETUPS.filter((s) => s.cosign))(
  'admission and promotion require the evidence, $format format',
  (setup) => {
    const cosign = setup.cosign as RealCosign;
    let registry: TestRegistry;
    let signing: { key: string; pub: string };
    let other: { key: string; pub: string };
    let j: Job;
    beforeAll(async () => {
      registry = await startRegistry();
      if (!tools) return;
      signing = keyPair(cosign, PASSWORD);
      other = keyPair(cosign, PASSWORD);
      j = job(cosign, tools, { COSIGN_PASSWORD: PASSWORD });
    });
    afterAll(async () => {
      await registry?.stop();
    });

    /** The policy of one form for this key and format, with the evidence required: what the two steps write. */
    function form(kind: PolicyKind, image: string): string {
      return requireEvidenceInPolicy(
        policyYaml(
          buildPolicy(kind, {
            image,
            imageReferences: defaultImageReferences(image),
            bundleFormat: setup.format,
            signer: { kind: 'key', pem: readFileSync(signing.pub, 'utf8') },
            instance: { transparencyLog: false, ctLog: true },
          }),
        ),
        REQUIREMENT,
      );
    }

    /** Released and signed with the signing key; the evidence attested with `attestKey` and `inputs`. */
    async function released(
      name: string,
      options: {
        vulnerable?: boolean;
        attestKey?: string;
        inputs?: Record<string, string>;
        scannedDaysAgo?: number;
      } = {},
    ): Promise<Released & { policies: Record<PolicyKind, string> }> {
      const layout = options.vulnerable ? await alpineSampleLayout() : await cleanAlpineSampleLayout();
      const release = await releaseUnattested(j, registry, layout, `admission-${setup.format}/${name}`, {
        key: signing.key,
        'bundle-format': setup.format,
        'kyverno-policy-kind': setup.signAs,
      });
      if (options.scannedDaysAgo) {
        // the scan that gated this digest ran that many days ago
        const report = JSON.parse(readFileSync(release.report, 'utf8'));
        const then = new Date(Date.now() - options.scannedDaysAgo * 86_400_000).toISOString();
        for (const platform of report.platforms) platform.report.CreatedAt = then;
        writeFileSync(release.report, JSON.stringify(report));
      }
      const run = await attest(j, {
        image: release.image,
        digest: release.digest,
        'layout-path': layout.path,
        report: release.report,
        key: options.attestKey ?? signing.key,
        'bundle-format': setup.format,
        'kyverno-policy': release.policy,
        ...options.inputs,
      });
      expect(run.error).toBeUndefined();
      const written = readFileSync(run.recorded.outputs['kyverno-policy'] as string, 'utf8');
      const policies = {
        ImageValidatingPolicy: form('ImageValidatingPolicy', release.image),
        ClusterPolicy: form('ClusterPolicy', release.image),
      };
      // what attest-evidence wrote is what the generators give for the form sign-digest was told
      expect(written).toBe(policies[setup.signAs]);
      return { ...release, policies };
    }

    function promote(release: Released, tag: string) {
      return runIn(j, promoteTags, {
        image: release.image,
        digest: release.digest,
        tags: tag,
        engine: 'skopeo',
        key: signing.pub,
        'bundle-format': setup.format,
        'require-attestations': 'sbom,vuln',
        'transparency-log': 'false',
        'install-tools': 'false',
        'tls-verify': 'false',
      });
    }

    const outcome = (policy: string, image: string) => {
      const result = kyvernoApply(kyverno as string, policy, image);
      return { admitted: result.admitted, output: result.admitted ? '' : result.output };
    };

    test('a fresh clean scan and an SBOM signed by the image key: admitted by digest and by tag; promoted', async () => {
      const good = await released('clean');
      const admitted = { admitted: true, output: '' };
      for (const kind of setup.kinds)
        expect({ kind, ...outcome(good.policies[kind], `${good.image}@${good.digest}`) }).toEqual({
          kind,
          ...admitted,
        });
      const tag = `${good.image}:sha-admission${setup.format}clean`;
      // by tag: the ClusterPolicy pins it itself; an ImageValidatingPolicy's validating half (all the CLI runs) sees the
      // Pod as its mutating webhook rewrote it, image:tag@digest
      if (setup.kinds.includes('ClusterPolicy')) expect(outcome(good.policies.ClusterPolicy, tag)).toEqual(admitted);
      if (setup.kinds.includes('ImageValidatingPolicy'))
        expect(outcome(good.policies.ImageValidatingPolicy, `${tag}@${good.digest}`)).toEqual(admitted);
      const promoted = await promote(good, 'latest');
      expect(promoted.error).toBeUndefined();
      expect(digestOf(`${good.image}:latest`)).toBe(good.digest);

      if (setup.format === 'legacy') {
        // Kyverno 1.19.1's ImageValidatingPolicy refuses this clean release: it will not take an attestation verified
        // without a transparency log (its log, -v=6, says why)
        const ivp = kyvernoApply(
          kyverno as string,
          good.policies.ImageValidatingPolicy,
          `${good.image}@${good.digest}`,
          {
            args: ['-v=6'],
          },
        );
        expect(ivp.admitted).toBe(false);
        expect(ivp.output).toMatch(
          /no CycloneDX SBOM attestation \(https:\/\/cyclonedx.org\/bom\) signed like the image/,
        );
        // biome-ignore lint/suspicious/noControlCharactersInRegex: Kyverno colours its log
        const log = ivp.output.replace(/\x1b\[[0-9;]*m/g, '');
        expect(log).toMatch(
          /ivpol\/cosign\/verifier\.go:163 > image verification failed error="cosign bundle verification failed" attestation=sbom/,
        );
      }
    });

    type Case = { vulnerable?: boolean; otherKey?: boolean; inputs?: Record<string, string>; scannedDaysAgo?: number };
    test.each<[string, string, Case, RegExp]>([
      ['a scan made 9 days ago', 'stale', { scannedDaysAgo: 9 }, /older than 168h/],
      ['a CRITICAL finding on linux/arm64', 'critical', { vulnerable: true }, /1 CRITICAL/],
      ['no SBOM', 'no sbom', { inputs: { attestations: 'vuln' } }, /No CycloneDX SBOM attestation/],
      ['evidence signed by another key', 'other key', { otherKey: true }, /No CycloneDX SBOM attestation .* verifies/s],
    ])('%s: refused by the policy, and promote-tags moves no tag', async (label, refusal, options, promoteMessage) => {
      const name = label.toLowerCase().replace(/\W+/g, '-').replace(/-$/, '');
      const bad = await released(name, { ...options, attestKey: options.otherKey ? other.key : undefined });
      for (const kind of setup.kinds) {
        const refused = kyvernoApply(kyverno as string, bad.policies[kind], `${bad.image}@${bad.digest}`);
        expect({ label, kind, admitted: refused.admitted }).toEqual({ label, kind, admitted: false });
        expect(refused.output).toMatch((REFUSALS[refusal] as Record<PolicyKind, RegExp>)[kind]);
      }
      const promoted = await promote(bad, 'latest');
      expect(promoted.error?.message).toMatch(promoteMessage);
      expect(promoted.error?.message).toMatch(/No tag was moved/);
      expect(digestOf(`${bad.image}:latest`)).toBeUndefined();
    });
  },
);
