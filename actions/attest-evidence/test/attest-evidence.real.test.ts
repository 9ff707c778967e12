// attest-evidence with the real cosign (v2.6 and v3.1), Syft and Trivy (the project's offline DB), against the
// Debian distribution registry (no referrers API), key-based.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanAlpineSampleLayout,
  realTools,
  startReferrersRegistry,
  startRegistry,
  type TestRegistry,
} from '@golden-image/testkit';
import { PINS } from '@golden-image/tools';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cycloneDxErrors } from '../../../test/doubles/fidelity/cyclonedx.js';
import { keyPair, type RealCosign, realCosigns } from '../../sign-digest/test/real-harness.js';
import { attest, job, releaseUnattested, verifyByHand } from './real-harness.js';

const tools = realTools('syft', 'trivy');
const cosigns = tools ? realCosigns() : [];
const PASSWORD = 'real-tier-key-passw0rd';
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';
const CDX = 'https://cyclonedx.org/bom';

let registry: TestRegistry;
let referrers: TestRegistry;
beforeAll(async () => {
  [registry, referrers] = await Promise.all([startRegistry(), startReferrersRegistry()]);
});
afterAll(async () => {
  await Promise.all([registry?.stop(), referrers?.stop()]);
});

const maybe = cosigns.length > 0 ? describe : describe.skip;

maybe.each(cosigns.length > 0 ? cosigns : [{ name: 'v2', bin: '' } as RealCosign])('cosign $name', (cosign) => {
  test('legacy format: SBOM and scan result on the index and each platform manifest, by digest; each verifies for the key and type, not for another key; a second run replaces them', async () => {
    const j = job(cosign, tools as { syft: string; trivy: string }, { COSIGN_PASSWORD: PASSWORD });
    const { key, pub } = keyPair(cosign, PASSWORD);
    const layout = await cleanAlpineSampleLayout();
    const released = await releaseUnattested(j, registry, layout, `evidence/clean-${cosign.name}`, { key });

    const run = await attest(j, {
      image: released.image,
      digest: released.digest,
      'layout-path': layout.path,
      report: released.report,
      key,
    });
    expect(run.error).toBeUndefined();
    const attached = JSON.parse(run.recorded.outputs.attestations ?? '[]') as { digest: string; type: string }[];
    const subjects = [released.digest, ...Object.values(released.platforms)];
    expect(attached.map((a) => `${a.digest} ${a.type}`).sort()).toEqual(
      subjects.flatMap((d) => [`${d} sbom`, `${d} vuln`]).sort(),
    );
    expect(run.recorded.outputs.mechanism).toBe('legacy .att tag');
    expect(run.recorded.outputs.location).toBe(`${released.image}:${released.digest.replace(':', '-')}.att`);
    expect(run.recorded.outputs['scan-result']).toBe('passed');
    expect(run.recorded.outputs['db-digest']).toBe(released.db.digest);
    expect(run.recorded.summary).toContain(`\`${released.db.ref}\` (registry, updated 2026-01-01T00:00:00Z)`);

    const v3 = cosign.name === 'v3' ? ['--new-bundle-format=false'] : [];
    const other = keyPair(cosign, 'other');
    for (const digest of subjects) {
      for (const type of ['vuln', 'cyclonedx']) {
        const args = ['--key', pub, '--insecure-ignore-tlog', ...v3, '--type', type, `${released.image}@${digest}`];
        const verified = verifyByHand(cosign, args, j.env);
        expect({ digest, type, status: verified.status, stderr: verified.status ? verified.stderr : '' }).toEqual({
          digest,
          type,
          status: 0,
          stderr: '',
        });
        expect(verified.statements).toHaveLength(1);
        const [statement] = verified.statements;
        expect(statement.predicateType).toBe(type === 'vuln' ? VULN : CDX);
        expect(statement.subject[0].digest.sha256).toBe(digest.slice('sha256:'.length));
        if (type === 'cyclonedx') expect(cycloneDxErrors(statement.predicate)).toEqual([]);
        else {
          expect(statement.predicate.scanner.version).toBe(PINS.trivy.defaultVersion);
          expect(statement.predicate.scanner.db.version).toBe('2026-01-01T00:00:00Z');
          // The DB scan-layout used, by digest, as its report named it.
          expect(released.db.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
          expect(statement.predicate.scanner.db.uri).toBe(released.db.ref);
          expect(statement.predicate.invocation.parameters.db).toMatchObject({
            digest: released.db.digest,
            source: 'registry',
            UpdatedAt: '2026-01-01T00:00:00Z',
          });
          expect(statement.predicate.invocation.parameters.findings).toEqual({
            CRITICAL: 0,
            HIGH: 0,
            MEDIUM: 0,
            LOW: 0,
            UNKNOWN: 0,
          });
          expect(statement.predicate.invocation.parameters.gate.severity).toEqual(['HIGH', 'CRITICAL']);
        }
        const wrong = verifyByHand(cosign, ['--key', other.pub, ...args.slice(2)], j.env);
        expect(wrong.status).not.toBe(0);
      }
    }
    // the index SBOM holds each platform's components under its platform manifest
    const indexSbom = verifyByHand(
      cosign,
      ['--key', pub, '--insecure-ignore-tlog', ...v3, '--type', 'cyclonedx', `${released.image}@${released.digest}`],
      j.env,
    ).statements[0].predicate;
    expect(indexSbom.components.map((c: { version: string }) => c.version).sort()).toEqual(
      Object.values(released.platforms).sort(),
    );

    const again = await attest(j, {
      image: released.image,
      digest: released.digest,
      'layout-path': layout.path,
      report: released.report,
      key,
    });
    expect(again.error).toBeUndefined();
    const afterRerun = verifyByHand(
      cosign,
      ['--key', pub, '--insecure-ignore-tlog', ...v3, '--type', 'vuln', `${released.image}@${released.digest}`],
      j.env,
    );
    expect(afterRerun.statements).toHaveLength(1);
    expect(readFileSync(released.report, 'utf8')).toContain(released.digest);
  });

  // cosign 2.6 writes bundles Kyverno cannot find, so sign-digest refuses bundle-format new with it: the new
  // format runs with v3 only, and v2 is shown to stop before anything is signed.
  if (cosign.name === 'v2') {
    test('new format with cosign v2 is refused before anything is signed', async () => {
      const j = job(cosign, tools as { syft: string; trivy: string }, { COSIGN_PASSWORD: PASSWORD });
      const { key } = keyPair(cosign, PASSWORD);
      const layout = await cleanAlpineSampleLayout();
      await expect(
        releaseUnattested(j, registry, layout, 'evidence/bundle-v2', { key, 'bundle-format': 'new', verify: 'false' }),
      ).rejects.toThrow(/needs cosign v3 to sign/);
    });
  } else {
    test.each([
      ['the distribution registry (no referrers API)', 'referrers tag schema', () => registry],
      ["go-containerregistry's registry (referrers API)", 'OCI 1.1 referrers API', () => referrers],
    ])(
      'new format on %s: bundles stored as referrers (%s), each verifies for the key and type',
      async (_label, mechanism, which) => {
        const j = job(cosign, tools as { syft: string; trivy: string }, { COSIGN_PASSWORD: PASSWORD });
        const { key, pub } = keyPair(cosign, PASSWORD);
        const layout = await cleanAlpineSampleLayout();
        const target = which();
        // Offline, cosign verifies a key-signed bundle only against a trusted root, here one with no authority at all.
        const trustedRoot = join(j.runnerTemp, 'empty-trusted-root.json');
        execFileSync(cosign.bin, ['trusted-root', 'create', '--out', trustedRoot]);
        const released = await releaseUnattested(j, target, layout, `evidence/bundle-${cosign.name}`, {
          key,
          'bundle-format': 'new',
          verify: 'false',
        });
        const run = await attest(j, {
          image: released.image,
          digest: released.digest,
          'layout-path': layout.path,
          report: released.report,
          key,
          'bundle-format': 'new',
          'trusted-root': trustedRoot,
        });
        expect(run.error).toBeUndefined();
        expect(run.recorded.outputs.mechanism).toBe(mechanism);
        expect(run.recorded.summary).toContain(mechanism);
        const fallbackTag = `${released.image}:${released.digest.replace(':', '-')}`;
        if (mechanism === 'referrers tag schema') expect(run.recorded.outputs.location).toBe(fallbackTag);
        else {
          // no fallback tag; the registry's own referrers endpoint lists one bundle of each type
          const repo = released.image.slice(target.host.length + 1);
          expect(
            (await fetch(`http://${target.host}/v2/${repo}/manifests/${fallbackTag.split(':').pop()}`)).status,
          ).toBe(404);
          const listed = (await (
            await fetch(`http://${target.host}/v2/${repo}/referrers/${released.digest}`)
          ).json()) as {
            manifests: { annotations?: Record<string, string> }[];
          };
          const types = listed.manifests.map((m) => m.annotations?.['dev.sigstore.bundle.predicateType']).sort();
          expect(types).toEqual(expect.arrayContaining([CDX, VULN]));
        }
        const newFormat = cosign.name === 'v3' ? [] : ['--new-bundle-format'];
        for (const digest of [released.digest, ...Object.values(released.platforms)]) {
          for (const type of ['vuln', 'cyclonedx']) {
            const verified = verifyByHand(
              cosign,
              [
                '--key',
                pub,
                '--insecure-ignore-tlog',
                '--trusted-root',
                trustedRoot,
                ...newFormat,
                '--type',
                type,
                `${released.image}@${digest}`,
              ],
              j.env,
            );
            expect({ digest, type, status: verified.status, stderr: verified.status ? verified.stderr : '' }).toEqual({
              digest,
              type,
              status: 0,
              stderr: '',
            });
          }
        }
      },
    );
  }

  test('prepare in the build job, attach in the signing job (the reusable workflow): the same evidence, by digest; evidence of other bytes is refused', async () => {
    const build = job(cosign, tools as { syft: string; trivy: string }, { COSIGN_PASSWORD: PASSWORD });
    const { key, pub } = keyPair(cosign, PASSWORD);
    const layout = await cleanAlpineSampleLayout();
    const released = await releaseUnattested(build, registry, layout, `evidence/split-${cosign.name}`, { key });
    const prepared = await attest(build, {
      mode: 'prepare',
      image: released.image,
      digest: released.digest,
      'layout-path': layout.path,
      report: released.report,
    });
    expect(prepared.error).toBeUndefined();
    expect(prepared.recorded.outputs['db-digest']).toBe(released.db.digest);
    const evidence = prepared.recorded.outputs['evidence-dir'] as string;

    const signing = job(cosign, tools as { syft: string; trivy: string }, { COSIGN_PASSWORD: PASSWORD });
    const attached = await attest(signing, {
      mode: 'attach',
      image: released.image,
      digest: released.digest,
      'evidence-dir': evidence,
      key,
    });
    expect(attached.error).toBeUndefined();
    expect(JSON.parse(attached.recorded.outputs.attestations ?? '[]')).toHaveLength(6);
    const v3 = cosign.name === 'v3' ? ['--new-bundle-format=false'] : [];
    const [scan] = verifyByHand(
      cosign,
      ['--key', pub, '--insecure-ignore-tlog', ...v3, '--type', 'vuln', `${released.image}@${released.digest}`],
      signing.env,
    ).statements;
    expect(scan.predicate.scanner.db.version).toBe('2026-01-01T00:00:00Z');
    expect(scan.predicate.invocation.parameters.db.digest).toBe(released.db.digest);
    expect(attached.recorded.outputs['db-digest']).toBe(released.db.digest);

    // the same evidence handed to another image's digest is refused before anything is attached
    const other = await releaseUnattested(
      build,
      registry,
      await cleanAlpineSampleLayout(undefined, { platforms: ['linux/amd64'] }),
      `evidence/split-other-${cosign.name}`,
      { key },
    );
    const wrong = await attest(signing, {
      mode: 'attach',
      image: other.image,
      digest: other.digest,
      'evidence-dir': evidence,
      key,
    });
    expect(wrong.error?.message).toMatch(/holds the evidence of sha256:[0-9a-f]{64}, not of/);
  });
});
