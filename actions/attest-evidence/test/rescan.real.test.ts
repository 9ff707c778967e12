// mode: rescan with the real Trivy, Syft and cosign: a released digest is scanned again from the registry with a
// later DB; a new finding at the gate fails the step loudly, the fresh scan result replaces the old one, and no
// tag moves.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanAlpineSampleLayout,
  pushTrivyDbArtifact,
  realTools,
  startRegistry,
  type TestRegistry,
  TRIVY_ADVISORIES,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main as promoteTags } from '../../promote-tags/main.js';
import { keyPair, realCosigns } from '../../sign-digest/test/real-harness.js';
import { attest, digestOf, job, releaseUnattested, runIn, verifyByHand } from './real-harness.js';

const tools = realTools('syft', 'trivy');
const [cosign] = tools ? realCosigns() : [];
const PASSWORD = 'real-tier-key-passw0rd';

/** The project's advisories plus one published after the release: musl 1.2.5-r1 (the fixed one) is HIGH again. */
function laterAdvisories(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-advisories-'));
  cpSync(TRIVY_ADVISORIES, dir, { recursive: true });
  writeFileSync(
    join(dir, 'later.yaml'),
    [
      '- bucket: alpine 3.20',
      '  pairs:',
      '    - bucket: musl',
      '      pairs:',
      '        - key: CVE-2099-1101',
      '          value:',
      '            FixedVersion: 1.2.5-r2',
      '- bucket: vulnerability',
      '  pairs:',
      '    - key: CVE-2099-1101',
      '      value:',
      '        Title: "musl: made-up high flaw published after the release"',
      '        Severity: HIGH',
      '',
    ].join('\n'),
  );
  return dir;
}

const maybe = cosign ? describe : describe.skip;

maybe('rescan of a released digest', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('same DB: passes and replaces the scan result; a later DB with a new HIGH: fails loudly, the fresh failing result is attached, no tag moved', async () => {
    if (!cosign || !tools) return;
    const { key, pub } = keyPair(cosign, PASSWORD);
    const release = job(cosign, tools, { COSIGN_PASSWORD: PASSWORD });
    const layout = await cleanAlpineSampleLayout();
    const released = await releaseUnattested(release, registry, layout, 'evidence/rescan', { key });
    const attached = await attest(release, {
      image: released.image,
      digest: released.digest,
      'layout-path': layout.path,
      report: released.report,
      key,
    });
    expect(attached.error).toBeUndefined();
    const tag = `${released.image}:sha-evidencerescan`;
    expect(digestOf(tag)).toBe(released.digest);

    const sameDb = await pushTrivyDbArtifact(registry, 'mirror/trivy-db');
    const laterDb = await pushTrivyDbArtifact(registry, 'mirror/trivy-db-later', { advisories: laterAdvisories() });
    const v3 = cosign.name === 'v3' ? ['--new-bundle-format=false'] : [];
    const scanResult = (digest: string) =>
      verifyByHand(
        cosign,
        ['--key', pub, '--insecure-ignore-tlog', ...v3, '--type', 'vuln', `${released.image}@${digest}`],
        release.env,
      ).statements;

    // a scheduled job: its own runner temp, no layout, no report, the DB from the mirror; it names the release by
    // tag, read once for its digest
    const quiet = await attest(job(cosign, tools, { COSIGN_PASSWORD: PASSWORD }), {
      mode: 'rescan',
      image: released.image,
      tag: 'sha-evidencerescan',
      key,
      'db-repository': sameDb,
    });
    expect(quiet.error).toBeUndefined();
    expect(quiet.recorded.outputs['scan-result']).toBe('passed');
    expect(quiet.recorded.outputs.digest).toBe(released.digest);
    expect(quiet.recorded.summary).toContain(`\`${released.image}:sha-evidencerescan\`, read once at the start`);
    const afterQuiet = scanResult(released.digest);
    expect(afterQuiet).toHaveLength(1);
    expect(afterQuiet[0].predicate.invocation.parameters.mode).toBe('rescan');

    const loud = await attest(job(cosign, tools, { COSIGN_PASSWORD: PASSWORD }), {
      mode: 'rescan',
      image: released.image,
      digest: released.digest,
      key,
      'db-repository': laterDb,
    });
    expect(loud.error?.message).toMatch(
      new RegExp(`rescan of ${released.image}@${released.digest} found 2 HIGH .*no tag moved`, 's'),
    );
    expect(loud.recorded.outputs['scan-result']).toBe('failed');
    // the index's one scan result is the new one, counting the finding on both platforms; each platform has its own
    const [index] = scanResult(released.digest);
    expect(scanResult(released.digest)).toHaveLength(1);
    expect(index.predicate.invocation.parameters.findings.HIGH).toBe(2);
    expect(index.predicate.invocation.parameters.passed).toBe(false);
    // the rescan's own DB, by digest: the later one it was pointed at, resolved in that step
    expect(loud.recorded.outputs['db-ref']).toMatch(/\/mirror\/trivy-db-later@sha256:[0-9a-f]{64}$/);
    expect(index.predicate.scanner.db.uri).toBe(loud.recorded.outputs['db-ref']);
    expect(index.predicate.invocation.parameters.db).toMatchObject({
      digest: loud.recorded.outputs['db-digest'],
      resolvedFrom: laterDb,
      source: 'registry',
    });
    expect(
      index.predicate.scanner.result.Results.flatMap((r: { Vulnerabilities?: { VulnerabilityID: string }[] }) =>
        (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID),
      ),
    ).toEqual(['CVE-2099-1101', 'CVE-2099-1101']);
    for (const digest of Object.values(released.platforms)) {
      const [own] = scanResult(digest);
      expect(own.predicate.invocation.parameters.findings.HIGH).toBe(1);
    }
    // the SBOM stays, the tag stays
    const sbom = verifyByHand(
      cosign,
      ['--key', pub, '--insecure-ignore-tlog', ...v3, '--type', 'cyclonedx', `${released.image}@${released.digest}`],
      release.env,
    );
    expect(sbom.status).toBe(0);
    expect(digestOf(tag)).toBe(released.digest);

    // promotion now refuses the digest, naming the new finding
    const promoted = await runIn(release, promoteTags, {
      image: released.image,
      digest: released.digest,
      tags: 'latest',
      engine: 'skopeo',
      key: pub,
      'require-attestations': 'sbom,vuln',
      'transparency-log': 'false',
      'install-tools': 'false',
      'tls-verify': 'false',
    });
    expect(promoted.error?.message).toMatch(/the scan found 2 HIGH .*No tag was moved/s);
    expect(digestOf(`${released.image}:latest`)).toBeUndefined();
  });
});
