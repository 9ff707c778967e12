// The cluster side, with the real Kyverno CLI (kyverno apply), the real cosign, Syft and Trivy: the policy
// sign-digest writes, extended by attest-evidence, admits a Pod whose digest carries a fresh clean scan and an SBOM
// signed by the same key, and refuses a stale scan, a blocking finding, a missing SBOM, and evidence signed by
// another key. promote-tags refuses the same digests with no tag moved.
import { readFileSync, writeFileSync } from 'node:fs';
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
import { keyPair, realCosigns } from '../../sign-digest/test/real-harness.js';
import { attest, digestOf, type Job, job, type Released, releaseUnattested, runIn } from './real-harness.js';

const tools = realTools('syft', 'trivy');
const kyverno = tools ? realTool('kyverno', ['version']) : undefined;
const [cosign] = kyverno ? realCosigns() : [];
const PASSWORD = 'real-tier-key-passw0rd';
const maybe = cosign ? describe : describe.skip;

maybe('admission and promotion require the evidence', () => {
  let registry: TestRegistry;
  let signing: { key: string; pub: string };
  let other: { key: string; pub: string };
  let j: Job;
  beforeAll(async () => {
    registry = await startRegistry();
    if (!cosign || !tools) return;
    signing = keyPair(cosign, PASSWORD);
    other = keyPair(cosign, PASSWORD);
    j = job(cosign, tools, { COSIGN_PASSWORD: PASSWORD });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  /** Released and signed with the signing key; the evidence attested with `attestKey` and `inputs`. */
  async function released(
    name: string,
    options: {
      vulnerable?: boolean;
      attestKey?: string;
      inputs?: Record<string, string>;
      scannedDaysAgo?: number;
    } = {},
  ): Promise<Released & { policy: string }> {
    const layout = options.vulnerable ? await alpineSampleLayout() : await cleanAlpineSampleLayout();
    const release = await releaseUnattested(j, registry, layout, `admission/${name}`, { key: signing.key });
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
      'kyverno-policy': release.policy,
      ...options.inputs,
    });
    expect(run.error).toBeUndefined();
    return { ...release, policy: readFileSync(run.recorded.outputs['kyverno-policy'] as string, 'utf8') };
  }

  function promote(release: Released, tag: string) {
    return runIn(j, promoteTags, {
      image: release.image,
      digest: release.digest,
      tags: tag,
      engine: 'skopeo',
      key: signing.pub,
      'require-attestations': 'sbom,vuln',
      'transparency-log': 'false',
      'install-tools': 'false',
      'tls-verify': 'false',
    });
  }

  test('a fresh clean scan and an SBOM signed by the image key: admitted by digest and by tag; promoted', async () => {
    const good = await released('clean');
    const byDigest = kyvernoApply(kyverno as string, good.policy, `${good.image}@${good.digest}`);
    expect({ admitted: byDigest.admitted, output: byDigest.admitted ? '' : byDigest.output }).toEqual({
      admitted: true,
      output: '',
    });
    const byTag = kyvernoApply(kyverno as string, good.policy, `${good.image}:sha-admissionclean`);
    expect({ admitted: byTag.admitted, output: byTag.admitted ? '' : byTag.output }).toEqual({
      admitted: true,
      output: '',
    });
    const promoted = await promote(good, 'latest');
    expect(promoted.error).toBeUndefined();
    expect(digestOf(`${good.image}:latest`)).toBe(good.digest);
  });

  type Case = { vulnerable?: boolean; otherKey?: boolean; inputs?: Record<string, string>; scannedDaysAgo?: number };
  test.each<[string, Case, RegExp, RegExp]>([
    ['a scan made 9 days ago', { scannedDaysAgo: 9 }, /the scan result is older than 168h/, /older than 168h/],
    ['a CRITICAL finding on linux/arm64', { vulnerable: true }, /the scan found CRITICAL findings/, /1 CRITICAL/],
    [
      'no SBOM',
      { inputs: { attestations: 'vuln' } },
      /attestions not found for predicate type https:\/\/cyclonedx.org\/bom/,
      /No CycloneDX SBOM attestation/,
    ],
    [
      'evidence signed by another key',
      { otherKey: true },
      /no matching attestations/,
      /No CycloneDX SBOM attestation .* verifies/s,
    ],
  ])('%s: refused by the policy, and promote-tags moves no tag', async (label, options, admission, promoteMessage) => {
    const name = label.toLowerCase().replace(/\W+/g, '-').replace(/-$/, '');
    const bad = await released(name, { ...options, attestKey: options.otherKey ? other.key : undefined });
    const refused = kyvernoApply(kyverno as string, bad.policy, `${bad.image}@${bad.digest}`);
    expect({ label, admitted: refused.admitted }).toEqual({ label, admitted: false });
    expect(refused.output).toMatch(admission);
    const promoted = await promote(bad, 'latest');
    expect(promoted.error?.message).toMatch(promoteMessage);
    expect(promoted.error?.message).toMatch(/No tag was moved/);
    expect(digestOf(`${bad.image}:latest`)).toBeUndefined();
  });
});
