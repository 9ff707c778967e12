import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { emptyCounts, IgnoreRules } from '@golden-image/scanners';
import { buildClusterPolicy, buildImageValidatingPolicy, type CosignVersion, policyYaml } from '@golden-image/signing';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { cycloneDxErrors } from '../../../test/doubles/fidelity/cyclonedx.js';
import {
  attestArgs,
  durationMs,
  indexSbom,
  parseStatements,
  policyKindOf,
  readScanReport,
  requireEvidenceInPolicy,
  type Statement,
  scanProblems,
  severitiesFrom,
  verifyAttestationArgs,
  vulnPredicate,
} from '../src/index.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const INDEX = digest('a');
const AMD = digest('b');
const ARM = digest('c');
const DB_DIGEST = digest('d');
const image = 'ghcr.io/octo-org/app';
const v2: CosignVersion = { major: 2, minor: 6, patch: 5, text: 'v2.6.5' };
const v3: CosignVersion = { major: 3, minor: 1, patch: 3, text: 'v3.1.3' };

function report(platform: string, createdAt: string, vulns: { id: string; severity: string }[] = []) {
  return {
    SchemaVersion: 2,
    Trivy: { Version: '0.74.0' },
    ReportID: `r-${platform}`,
    CreatedAt: createdAt,
    ArtifactName: platform,
    Results: [
      {
        Target: 'x (alpine 3.20.3)',
        Vulnerabilities: vulns.map((v) => ({
          VulnerabilityID: v.id,
          PkgName: 'musl',
          InstalledVersion: '1',
          Status: 'fixed',
          FixedVersion: '2',
          Severity: v.severity,
        })),
      },
    ],
  };
}

/** A plain JSON copy, typed loosely for reading nested fields in assertions. */
const json = (value: unknown) => JSON.parse(JSON.stringify(value));
const gate = { severity: ['HIGH', 'CRITICAL'] as const, ignoreUnfixed: false, ignoreFiles: [] };
const counts = (c: Partial<Record<string, number>>) => ({ ...emptyCounts(), ...c });

describe('the scan result predicate (cosign vuln)', () => {
  const scans = [
    { platform: 'linux/amd64', digest: AMD, report: report('amd', '2026-11-30T06:00:01Z'), counts: counts({}) },
    {
      platform: 'linux/arm64',
      digest: ARM,
      report: report('arm', '2026-11-30T06:00:03Z', [{ id: 'CVE-1', severity: 'CRITICAL' }]),
      counts: counts({ CRITICAL: 1 }),
    },
  ];

  test('a platform manifest carries its Trivy report unchanged, its gate, counts, DB (by digest) and scan time', () => {
    const predicate = json(
      vulnPredicate({
        image,
        subject: ARM,
        scans: [scans[1] as (typeof scans)[number]],
        gate: { ...gate, severity: [...gate.severity] },
        db: {
          repository: 'mirror.gcr.io/aquasec/trivy-db',
          digest: DB_DIGEST,
          source: 'registry',
          resolvedFrom: 'mirror.gcr.io/aquasec/trivy-db:2',
          Version: 2,
          UpdatedAt: '2026-11-29T00:00:00Z',
        },
        mode: 'release',
      }),
    );
    expect(predicate.scanner).toEqual({
      uri: 'pkg:github/aquasecurity/trivy@v0.74.0',
      version: '0.74.0',
      db: { uri: `mirror.gcr.io/aquasec/trivy-db@${DB_DIGEST}`, version: '2026-11-29T00:00:00Z' },
      result: scans[1]?.report,
    });
    expect(predicate.metadata).toEqual({
      scanStartedOn: '2026-11-30T06:00:03.000Z',
      scanFinishedOn: '2026-11-30T06:00:03.000Z',
    });
    expect(predicate.invocation.parameters).toMatchObject({
      digest: ARM,
      findings: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
      blocking: 1,
      passed: false,
      gate: { severity: ['HIGH', 'CRITICAL'], ignoreUnfixed: false },
      db: { repository: 'mirror.gcr.io/aquasec/trivy-db', digest: DB_DIGEST, source: 'registry', Version: 2 },
    });
    expect(predicate.invocation.parameters.javaDb).toBeUndefined();
  });

  test('the index carries every platform: results marked with their platform, counts summed, the scan span', () => {
    const predicate = json(
      vulnPredicate({
        image,
        subject: INDEX,
        scans,
        gate: { ...gate, severity: [...gate.severity] },
        mode: 'rescan',
      }),
    );
    expect(predicate.scanner.result.Results.map((r: { Platform: string }) => r.Platform)).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    expect(predicate.scanner.result.ArtifactName).toBe(`${image}@${INDEX}`);
    expect(predicate.invocation.parameters.findings.CRITICAL).toBe(1);
    expect(predicate.invocation.parameters.db).toBeNull();
    expect(predicate.metadata.scanStartedOn).toBe('2026-11-30T06:00:01.000Z');
    expect(predicate.metadata.scanFinishedOn).toBe('2026-11-30T06:00:03.000Z');
  });

  test('reports of two Trivy versions, or without a time, are refused', () => {
    const other = { ...scans[0], report: { ...scans[0]?.report, Trivy: { Version: '0.73.0' } } } as (typeof scans)[0];
    expect(() =>
      vulnPredicate({
        image,
        subject: INDEX,
        scans: [other, scans[1] as (typeof scans)[0]],
        gate: { ...gate, severity: [] },
        mode: 'release',
      }),
    ).toThrow(UserError);
    const untimed = {
      ...scans[0],
      report: { ...scans[0]?.report, CreatedAt: undefined },
    } as unknown as (typeof scans)[0];
    expect(() =>
      vulnPredicate({ image, subject: AMD, scans: [untimed], gate: { ...gate, severity: [] }, mode: 'release' }),
    ).toThrow(/no CreatedAt/);
  });
});

describe("scan-layout's report", () => {
  const platforms = [
    {
      platform: 'linux/amd64',
      digest: AMD,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      attestation: false,
    },
    {
      platform: 'linux/arm64',
      digest: ARM,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      attestation: false,
    },
  ];
  const write = (content: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), 'evidence-report-')), 'trivy-report.json');
    writeFileSync(file, JSON.stringify(content));
    return file;
  };
  const gateOptions = {
    severity: ['HIGH' as const, 'CRITICAL' as const],
    ignoreUnfixed: false,
    ignore: IgnoreRules.empty(),
  };
  const both = [
    { platform: 'linux/amd64', digest: AMD, report: report('amd', '2026-11-30T06:00:01Z') },
    {
      platform: 'linux/arm64',
      digest: ARM,
      report: report('arm', '2026-11-30T06:00:01Z', [{ id: 'CVE-1', severity: 'HIGH' }]),
    },
  ];

  test('each platform gets its report, re-gated with the same settings', async () => {
    const scans = await readScanReport(write({ digest: INDEX, platforms: both }), INDEX, platforms, gateOptions);
    expect(scans.map((s) => [s.platform, s.counts.HIGH])).toEqual([
      ['linux/amd64', 0],
      ['linux/arm64', 1],
    ]);
  });

  test('the report of another digest, or one missing a platform, is refused', async () => {
    await expect(
      readScanReport(write({ digest: AMD, platforms: both }), INDEX, platforms, gateOptions),
    ).rejects.toThrow(/is the scan of sha256:b+, not of sha256:a+/);
    await expect(
      readScanReport(write({ digest: INDEX, platforms: both.slice(0, 1) }), INDEX, platforms, gateOptions),
    ).rejects.toThrow(/no Trivy report for linux\/arm64/);
  });
});

describe('the index SBOM', () => {
  const syft = (arch: string, manifest: string) => ({
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: 'urn:uuid:1b671687-395b-41f5-a30f-a58921a69b79',
    version: 1,
    metadata: {
      timestamp: '2026-11-30T06:00:00Z',
      tools: { components: [{ type: 'application', author: 'anchore', name: 'syft', version: '1.54.1' }] },
      component: { 'bom-ref': `img-${arch}`, type: 'container', name: image, version: manifest },
    },
    components: [
      { 'bom-ref': 'pkg:apk/alpine/musl@1.2.5-r1', type: 'library', name: 'musl', version: '1.2.5-r1' },
      { 'bom-ref': 'os:alpine@3.20.3', type: 'operating-system', name: 'alpine', version: '3.20.3' },
    ],
    dependencies: [{ ref: 'pkg:apk/alpine/musl@1.2.5-r1', dependsOn: ['os:alpine@3.20.3'] }],
  });

  test('one valid CycloneDX document: each platform a container holding its own components, refs kept apart', () => {
    const bom = json(
      indexSbom(image, INDEX, [
        { platform: 'linux/amd64', digest: AMD, sbom: syft('amd', AMD) },
        { platform: 'linux/arm64', digest: ARM, sbom: syft('arm', ARM) },
      ]),
    );
    expect(cycloneDxErrors(bom)).toEqual([]);
    expect(bom.metadata.component).toMatchObject({ type: 'container', version: INDEX });
    expect(bom.components.map((c: { version: string }) => c.version)).toEqual([AMD, ARM]);
    const refs = JSON.stringify(bom).match(/"bom-ref":"[^"]+"/g) ?? [];
    expect(new Set(refs).size).toBe(refs.length);
    expect(bom.serialNumber).toBe(indexSbom(image, INDEX, []).serialNumber);
  });
});

describe('cosign argv', () => {
  const base = { imageRef: `${image}@${INDEX}`, predicateFile: '/p.json', kind: 'vuln' as const };
  test('legacy: --replace, and with cosign v3 the v2-style flags; by digest, last', () => {
    expect(attestArgs({ ...base, version: v2, bundleFormat: 'legacy', key: 'k.key' })).toEqual([
      'attest',
      '--yes',
      '--key',
      'k.key',
      '--predicate',
      '/p.json',
      '--type',
      'vuln',
      '--replace',
      `${image}@${INDEX}`,
    ]);
    const three = attestArgs({ ...base, version: v3, bundleFormat: 'legacy', key: 'k.key' });
    expect(three).toEqual(
      expect.arrayContaining(['--new-bundle-format=false', '--use-signing-config=false', '--replace']),
    );
    expect(three).not.toContain('--recursive');
  });
  test('new format: no --replace (cosign has none for bundles); a private instance reaches attest as it reaches sign', () => {
    const args = attestArgs({
      ...base,
      kind: 'sbom',
      version: v3,
      bundleFormat: 'new',
      instance: { fulcioUrl: 'http://127.0.0.1:5555', transparencyLog: false, ctLog: false },
    });
    expect(args).not.toContain('--replace');
    expect(args).toEqual(
      expect.arrayContaining(['--fulcio-url', 'http://127.0.0.1:5555', '--tlog-upload=false', '--type', 'cyclonedx']),
    );
  });
  test('verify-attestation binds the same signer as cosign verify', () => {
    const args = verifyAttestationArgs({
      imageRef: `${image}@${INDEX}`,
      kind: 'sbom',
      version: v2,
      bundleFormat: 'legacy',
      signer: {
        identity: 'https://github.com/o/w/.github/workflows/x.yml@refs/tags/v1',
        issuer: 'https://i',
        source: { repository: 'octo-org/app' },
      },
    });
    expect(args[0]).toBe('verify-attestation');
    expect(args).toEqual(
      expect.arrayContaining(['--certificate-github-workflow-repository', 'octo-org/app', '--type', 'cyclonedx']),
    );
    expect(args.at(-1)).toBe(`${image}@${INDEX}`);
  });
  test('statements come out of the DSSE envelopes cosign prints', () => {
    const statement = {
      predicateType: 'https://cyclonedx.org/bom',
      subject: [{ digest: { sha256: 'a'.repeat(64) } }],
      predicate: {},
    };
    const line = JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    });
    expect(parseStatements(`Verification for x --\n${line}\n`)).toEqual([statement]);
  });
});

describe('what promotion and admission demand', () => {
  const requirement = { kinds: ['sbom' as const, 'vuln' as const], maxScanAge: '168h', blockSeverity: 'HIGH' as const };
  const now = new Date('2026-11-30T12:00:00Z');
  const statement = (finished: string, findings: Record<string, number>): Statement => ({
    predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
    subject: [],
    predicate: { metadata: { scanFinishedOn: finished }, invocation: { parameters: { findings } } },
  });
  const clean = { CRITICAL: 0, HIGH: 0, MEDIUM: 3, LOW: 1, UNKNOWN: 0 };

  test('durations and severities', () => {
    expect(durationMs('168h')).toBe(168 * 3_600_000);
    expect(durationMs('36h30m')).toBe(36.5 * 3_600_000);
    for (const bad of ['', '7d', '0h', '1h2', 'h']) expect(durationMs(bad)).toBeUndefined();
    expect(severitiesFrom('HIGH')).toEqual(['CRITICAL', 'HIGH']);
    expect(severitiesFrom('UNKNOWN')).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN']);
  });

  test('a fresh clean scan passes; a stale one, a blocking finding, or a foreign predicate do not', () => {
    expect(scanProblems(statement('2026-11-30T06:00:00Z', clean), requirement, now)).toEqual([]);
    expect(scanProblems(statement('2026-11-20T06:00:00Z', clean), requirement, now).join()).toMatch(
      /246h old .* older than 168h/,
    );
    expect(scanProblems(statement('2026-11-30T06:00:00Z', { ...clean, HIGH: 2 }), requirement, now).join()).toMatch(
      /2 HIGH/,
    );
    expect(scanProblems({ ...statement('x', clean), predicate: {} }, requirement, now)).toHaveLength(2);
  });

  /** What sign-digest was given, for a key. */
  const signedBy = {
    image,
    imageReferences: [image, `${image}:*`, `${image}@*`],
    bundleFormat: 'legacy',
    signer: { kind: 'key', pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' },
  } as const;

  test("sign-digest's policy gains both attestations, checked by the same attestors", () => {
    const signed = policyYaml(buildClusterPolicy(signedBy));
    const policy = parse(requireEvidenceInPolicy(signed, requirement));
    const verify = policy.spec.rules[0].verifyImages[0];
    expect(verify.attestations.map((a: { type: string }) => a.type)).toEqual([
      'https://cyclonedx.org/bom',
      'https://cosign.sigstore.dev/attestation/vuln/v1',
    ]);
    for (const attestation of verify.attestations) expect(attestation.attestors).toEqual(verify.attestors);
    const keys = verify.attestations[1].conditions[0].all.map((c: { key: string }) => c.key);
    expect(keys).toEqual([
      "{{ time_since('', metadata.scanFinishedOn, '') }}",
      '{{ invocation.parameters.findings.CRITICAL }}',
      '{{ invocation.parameters.findings.HIGH }}',
    ]);
    expect(() => requireEvidenceInPolicy('kind: ConfigMap\n', requirement)).toThrow(/no verifyImages entry/);
  });

  test("sign-digest's ImageValidatingPolicy gains both attestations and their conditions as CEL, checked by its own attestor", () => {
    const signed = policyYaml(buildImageValidatingPolicy(signedBy));
    const once = requireEvidenceInPolicy(signed, requirement);
    const policy = parse(once);
    expect(policyKindOf(once)).toBe('ImageValidatingPolicy');
    expect(policy.spec.attestations).toEqual([
      { name: 'sbom', intoto: { type: 'https://cyclonedx.org/bom' } },
      { name: 'vuln', intoto: { type: 'https://cosign.sigstore.dev/attestation/vuln/v1' } },
    ]);
    const validations = policy.spec.validations as { expression: string; message: string }[];
    // the signature first, then each kind verified before its payload is read
    expect(validations.map((v) => v.message)).toEqual([
      expect.stringMatching(/must be signed by the signing key/),
      'no CycloneDX SBOM attestation (https://cyclonedx.org/bom) signed like the image',
      'the SBOM attestation is not a CycloneDX document',
      'no vulnerability scan result attestation (https://cosign.sigstore.dev/attestation/vuln/v1) signed like the image',
      'the scan result is older than 168h: rescan the digest',
      'the scan found CRITICAL findings',
      'the scan found HIGH findings',
    ]);
    expect(validations[1]?.expression).toBe(
      'variables.podImages.all(image, verifyAttestationSignatures(image, attestations.sbom, [attestors.signer]) > 0)',
    );
    expect(validations[4]?.expression).toContain(
      "time.now() - timestamp(extractPayload(image, attestations.vuln).predicate.metadata.scanFinishedOn) <= duration('168h')",
    );
    expect(validations[6]?.expression).toContain(
      'int(extractPayload(image, attestations.vuln).predicate.invocation.parameters.findings.HIGH) == 0',
    );
    // extending twice replaces the attestations and their validations rather than listing them twice
    const twice = parse(requireEvidenceInPolicy(once, requirement));
    expect(twice.spec.attestations).toHaveLength(2);
    expect(twice.spec.validations).toEqual(policy.spec.validations);
  });
});
