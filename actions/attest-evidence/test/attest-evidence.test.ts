// Every input is checked before anything runs: no tool is started for a bad one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { createTestContext, RecordingRunner, tempDir } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { useDoublesOnPath } from '../../../test/doubles/lib/harness.js';
import { main } from '../main.js';

const digest = `sha256:${'a'.repeat(64)}`;
// a key file must exist before anything runs; its content is never read by these refusals
const key = join(tempDir('golden-image-attest-key-'), 'cosign.key');
writeFileSync(key, 'not read\n');
const base = { image: 'ghcr.io/octo-org/app', digest, key, 'install-tools': 'false' };

async function run(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const runner = new RecordingRunner();
  const { ctx } = createTestContext(inputs, { runner, env: { PATH: process.env.PATH, ...env } });
  const error = await main(ctx).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  return { error, calls: runner.calls.length };
}

describe('attest-evidence refuses bad inputs before running anything', () => {
  test.each([
    [{}, /Input "layout-path": is required in mode release\nInput "report": is required in mode release/],
    [
      { mode: 'attach', 'layout-path': '/l' },
      /Input "evidence-dir": is required in mode attach\nInput "layout-path": is not used in mode attach/,
    ],
    [{ mode: 'rescan', report: '/r.json' }, /Input "report": is not used in mode rescan/],
    [{ mode: 'nightly' }, /Input "mode": must be one of release, prepare, attach, rescan/],
    [
      { mode: 'rescan', 'certificate-identity': 'https://x' },
      /Input "key": key-based attestations are verified with the key; leave certificate-identity empty/,
    ],
    [
      { mode: 'rescan', attestations: 'sbom,provenance' },
      /Input "attestations": must list sbom and\/or vuln, got "provenance"/,
    ],
    [
      { mode: 'rescan', 'max-scan-age': '7d' },
      /Input "max-scan-age": must be a duration in hours, minutes and seconds/,
    ],
    [
      { mode: 'rescan', 'block-severity': 'SEVERE' },
      /Input "block-severity": must be one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL/,
    ],
    [{ mode: 'rescan', 'github-provenance': 'yes' }, /Input "github-provenance": must be one of auto, true, false/],
    [
      { mode: 'rescan', digest: '' },
      /^Input "digest": is required: the released digest.*or give tag \(for example latest\)/,
    ],
    [{ mode: 'rescan', tag: 'latest' }, /^Input "tag": give digest or tag, not both/],
    [{ mode: 'release', digest: '', tag: 'latest' }, /^Input "tag": is for mode rescan only/],
    [{ mode: 'rescan', digest: '', tag: 'feature/login' }, /^Input "tag": tag "feature\/login" is not valid/],
  ])('%j', async (inputs, message) => {
    const { error, calls } = await run({ ...base, ...inputs });
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toMatch(message);
    expect(calls).toBe(0);
  });

  test('keyless without a GitHub OIDC token says which permission is missing', async () => {
    const { error, calls } = await run({ ...base, key: '', mode: 'rescan' });
    expect(error?.message).toMatch(/permissions: id-token: write/);
    expect(calls).toBe(0);
  });

  test('prepare needs no signer and no OIDC token, but the layout and the report', async () => {
    const { error } = await run({ ...base, key: '', mode: 'prepare' });
    expect(error?.message).toMatch(/Input "layout-path": is required in mode prepare/);
  });
});

describe('bundle-format new needs cosign v3, as in sign-digest (cosign 2.6 bundles are invisible to Kyverno)', () => {
  test('the default cosign (v2) to be installed: refused before anything runs', async () => {
    const { error, calls } = await run({ ...base, mode: 'rescan', 'bundle-format': 'new', 'install-tools': 'true' });
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toMatch(/^Input "bundle-format": "new" needs cosign v3 to sign/);
    expect(calls).toBe(0);
  });

  test('a cosign v2.6 on PATH: refused once its version is read, before anything is attested', async () => {
    const restore = useDoublesOnPath();
    try {
      const runner = new RecordingRunner();
      const { ctx } = createTestContext(
        { ...base, mode: 'rescan', 'bundle-format': 'new' },
        { runner, env: { PATH: process.env.PATH, COSIGN_DOUBLE_VERSION: '2.6.5', COSIGN_PASSWORD: 'p' } },
      );
      await expect(main(ctx)).rejects.toThrow(/"new" needs cosign v3 to sign, but cosign v2\.6\.5 is in use/);
      expect(runner.of('cosign').map((call) => call.args)).toEqual([['version']]);
    } finally {
      restore();
    }
  });
});
