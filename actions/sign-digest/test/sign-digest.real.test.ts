// sign-digest and promote-tags with the real cosign v2.6 and v3.1, key-based, against a real registry (plain and
// basic auth). The registry credentials are given only as the actions' inputs: there is no docker login anywhere.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { everythingPrinted, startRegistry, type TestRegistry, tempDir } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import {
  type Credentials,
  cleanEnv,
  dockerConfigEnv,
  installerOf,
  keyPair,
  pushImage,
  type RealCosign,
  realCosigns,
  runCosign,
  runPromoteTags,
  runSignDigest,
  tagDigest,
  useCosign,
} from './real-harness.js';

const cosigns = realCosigns();
const AUTH: Credentials = { username: 'signer', password: 'real-tier-registry-s3cret' };
const KEY_PASSWORD = 'real-tier-key-passw0rd';

let plain: TestRegistry;
let authed: TestRegistry;
beforeAll(async () => {
  [plain, authed] = await Promise.all([startRegistry(), startRegistry({ auth: AUTH })]);
});
afterAll(async () => {
  await Promise.all([plain?.stop(), authed?.stop()]);
});

/** What sign-digest signs per cosign: v2 the legacy format (its bundles are invisible to Kyverno, so refused); v3 both. */
const cases = cosigns.flatMap((cosign) =>
  (cosign.name === 'v2' ? (['legacy'] as const) : (['legacy', 'new'] as const)).map((format) => ({
    label: `cosign ${cosign.name}, ${format} format`,
    cosign,
    format,
  })),
);

const describeReal = cases.length > 0 ? describe : describe.skip;

describeReal.each(cases.length > 0 ? cases : [{ label: 'none', cosign: {} as RealCosign, format: 'legacy' as const }])(
  '$label',
  ({ cosign, format }) => {
    let restore: () => void;
    beforeAll(() => {
      restore = useCosign(cosign);
    });
    afterAll(() => restore?.());

    test('basic-auth registry, credentials only as inputs: an index signed --recursive, every child verifies with the exact key; promotion moves tags, and refuses an unsigned digest with no tag moved', async () => {
      const { key, pub } = keyPair(cosign, KEY_PASSWORD);
      const signed = await pushImage(authed, `real/${cosign.name}-${format}`, `${cosign.name}-${format}`, AUTH);
      const unsigned = await pushImage(
        authed,
        `real/${cosign.name}-${format}`,
        `${cosign.name}-${format}-unsigned`,
        AUTH,
      );
      const env = cleanEnv(cosign, { COSIGN_PASSWORD: KEY_PASSWORD });

      const signing = await runSignDigest(
        {
          image: signed.image,
          digest: signed.digest,
          key,
          'bundle-format': format,
          'transparency-log': 'false',
          ...AUTH,
        },
        env,
      );
      expect(signing.error).toBeUndefined();
      expect(signing.recorded.outputs.digest).toBe(signed.digest);
      expect(signing.recorded.outputs['bundle-format']).toBe(format);
      // the private docker config cosign was given is gone, and nothing printed holds the password
      expect(readdirSync(signing.runnerTemp).filter((name) => name.includes('auth'))).toEqual([]);
      expect(everythingPrinted(signing.recorded)).not.toContain(AUTH.password);

      // every platform manifest and the index verify with the exact public key, by the real cosign a person runs
      const byHand = { ...cleanEnv(cosign), ...dockerConfigEnv(authed, AUTH) };
      for (const digest of [signed.digest, ...signed.platforms]) {
        const verified = runCosign(
          cosign,
          [
            'verify',
            '--key',
            pub,
            '--insecure-ignore-tlog',
            ...formatFlags(cosign, format),
            `${signed.image}@${digest}`,
          ],
          byHand,
        );
        expect({ digest, status: verified.status, stderr: verified.status ? verified.stderr : '' }).toEqual({
          digest,
          status: 0,
          stderr: '',
        });
      }
      // another key does not verify it
      const other = keyPair(cosign, 'other');
      const wrongKey = runCosign(
        cosign,
        [
          'verify',
          '--key',
          other.pub,
          '--insecure-ignore-tlog',
          ...formatFlags(cosign, format),
          `${signed.image}@${signed.digest}`,
        ],
        byHand,
      );
      expect(wrongKey.status).not.toBe(0);

      // the Kyverno policy names the key: a key without a log, so auto wrote an ImageValidatingPolicy
      const policy = parse(readFileSync(signing.recorded.outputs['kyverno-policy'] ?? '', 'utf8'));
      expect(signing.recorded.outputs['kyverno-policy-kind']).toBe('ImageValidatingPolicy');
      expect(policy.spec.attestors[0].cosign.key.data.trim()).toBe(readFileSync(pub, 'utf8').trim());

      const promoteInputs = {
        image: signed.image,
        tags: 'latest,stable',
        key: signing.recorded.outputs['public-key'] ?? '',
        'bundle-format': format,
        'transparency-log': 'false',
        ...AUTH,
      };
      const refused = await runPromoteTags({ ...promoteInputs, digest: unsigned.digest }, cleanEnv(cosign));
      expect(refused.error?.message).toMatch(/Signature check failed .* it has no signature at all/s);
      expect(tagDigest(`${signed.image}:latest`, AUTH)).toBeUndefined();
      expect(tagDigest(`${signed.image}:stable`, AUTH)).toBeUndefined();

      const promoted = await runPromoteTags({ ...promoteInputs, digest: signed.digest }, cleanEnv(cosign));
      expect(promoted.error).toBeUndefined();
      expect(tagDigest(`${signed.image}:latest`, AUTH)).toBe(signed.digest);
      expect(tagDigest(`${signed.image}:stable`, AUTH)).toBe(signed.digest);
      expect(everythingPrinted(promoted.recorded)).not.toContain(AUTH.password);
    });

    test('plain loopback registry: the verify-command output, pasted into a shell, passes', async () => {
      const { key } = keyPair(cosign, KEY_PASSWORD);
      const signed = await pushImage(plain, `real/${cosign.name}-${format}`, `${cosign.name}-${format}-plain`);
      const env = cleanEnv(cosign, { COSIGN_PASSWORD: KEY_PASSWORD });
      const signing = await runSignDigest(
        { image: signed.image, digest: signed.digest, key, 'bundle-format': format, 'transparency-log': 'false' },
        env,
      );
      expect(signing.error).toBeUndefined();
      const command = signing.recorded.outputs['verify-command'] ?? '';
      expect(command).toContain(`${signed.image}@${signed.digest}`);
      const pasted = runCosign({ ...cosign, bin: 'sh' }, ['-c', command], cleanEnv(cosign));
      expect({ status: pasted.status, stderr: pasted.status ? pasted.stderr : '' }).toEqual({ status: 0, stderr: '' });
    });
  },
);

/**
 * How a person verifies each format with this cosign offline: v3 reads bundles by default, v2 only when asked, and v2
 * also wants trusted material for a bundle even with a key and no log (an empty trusted root will do).
 */
function formatFlags(cosign: RealCosign, format: 'legacy' | 'new'): string[] {
  if (cosign.name === 'v3') return format === 'legacy' ? ['--new-bundle-format=false'] : [];
  if (format === 'legacy') return [];
  const emptyRoot = join(tempDir('golden-image-real-root-'), 'trusted-root.json');
  writeFileSync(emptyRoot, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }));
  return ['--new-bundle-format', '--trusted-root', emptyRoot];
}

/**
 * A Sigstore bundle by someone else already hangs off the digest (a build attestation, another signer), and
 * sign-digest makes the usual legacy signature. cosign 2.6.3+ and v3 verify only the bundle once one is attached;
 * the suite's own signature must still be what is checked.
 */
describe('a foreign Sigstore bundle attached before signing', () => {
  const v2 = cosigns.find((c) => c.name === 'v2');
  const v3 = cosigns.find((c) => c.name === 'v3');
  const both = v2 && v3 ? test : test.skip;

  async function withForeignBundle(seed: string) {
    const signed = await pushImage(plain, 'real/foreign', seed);
    const stranger = keyPair(v3 as RealCosign, 'stranger');
    const attached = runCosign(
      v3 as RealCosign,
      [
        'sign',
        '--yes',
        '--key',
        stranger.key,
        '--tlog-upload=false',
        '--use-signing-config=false',
        `${signed.image}@${signed.digest}`,
      ],
      { ...cleanEnv(v3 as RealCosign), COSIGN_PASSWORD: 'stranger' },
    );
    expect(attached.status).toBe(0);
    return signed;
  }

  both(
    'cosign v3: the suite verifies its legacy signature (--new-bundle-format=false); plain cosign verify would not',
    async () => {
      const cosign = v3 as RealCosign;
      const restore = useCosign(cosign);
      try {
        const signed = await withForeignBundle('foreign-v3');
        const { key, pub } = keyPair(cosign, KEY_PASSWORD);
        const signing = await runSignDigest(
          { image: signed.image, digest: signed.digest, key, 'transparency-log': 'false' },
          cleanEnv(cosign, { COSIGN_PASSWORD: KEY_PASSWORD }),
        );
        expect(signing.error).toBeUndefined();
        expect(signing.recorded.outputs['verify-command']).toContain('--new-bundle-format=false');
        const plainVerify = runCosign(
          cosign,
          ['verify', '--key', pub, '--insecure-ignore-tlog', `${signed.image}@${signed.digest}`],
          cleanEnv(cosign),
        );
        expect(plainVerify.status).toBe(1);
        expect(plainVerify.stderr).toContain('no matching attestations');
        const promoted = await runPromoteTags(
          { image: signed.image, digest: signed.digest, tags: 'latest', key: pub, 'transparency-log': 'false' },
          cleanEnv(cosign),
        );
        expect(promoted.error).toBeUndefined();
        expect(tagDigest(`${signed.image}:latest`)).toBe(signed.digest);
      } finally {
        restore();
      }
    },
  );

  both('cosign v2.6.5 on PATH (install-tools: false): the step fails and says why, no tag moves', async () => {
    const cosign = v2 as RealCosign;
    const restore = useCosign(cosign);
    try {
      const signed = await withForeignBundle('foreign-v2');
      const { key } = keyPair(cosign, KEY_PASSWORD);
      const signing = await runSignDigest(
        { image: signed.image, digest: signed.digest, key, 'transparency-log': 'false' },
        cleanEnv(cosign, { COSIGN_PASSWORD: KEY_PASSWORD }),
      );
      expect(signing.error?.message).toMatch(
        /cosign v2\.6\.5 verified the Sigstore bundle\(s\) attached to .* instead of its legacy signature.*cosign-version: 3\.1\.3/s,
      );
    } finally {
      restore();
    }
  });

  both(
    'cosign v2.6.5 installed by the suite: its legacy signature is checked with the pinned cosign v3, and promotion passes',
    async () => {
      // The suite's installer on a networked runner fetches the pinned cosign and, for the legacy check, the pinned
      // cosign v3; the builds of this machine stand in for those downloads (no tool cache may: it is never trusted).
      const installTool = installerOf({ '2.6.5': (v2 as RealCosign).bin, '3.1.3': (v3 as RealCosign).bin });
      {
        const signed = await withForeignBundle('foreign-v2-installed');
        const { key, pub } = keyPair(v2 as RealCosign, KEY_PASSWORD);
        const env = cleanEnv(v2 as RealCosign, { COSIGN_PASSWORD: KEY_PASSWORD });
        const signing = await runSignDigest(
          { image: signed.image, digest: signed.digest, key, 'transparency-log': 'false', 'install-tools': 'true' },
          env,
          installTool,
        );
        expect(signing.error).toBeUndefined();
        expect(signing.recorded.logs.join('\n')).toContain('checking the legacy signature with cosign v3');
        const promoted = await runPromoteTags(
          {
            image: signed.image,
            digest: signed.digest,
            tags: 'latest',
            key: pub,
            'transparency-log': 'false',
            'install-tools': 'true',
          },
          cleanEnv(v2 as RealCosign),
          installTool,
        );
        expect(promoted.error).toBeUndefined();
        expect(tagDigest(`${signed.image}:latest`)).toBe(signed.digest);
      }
    },
  );
});
