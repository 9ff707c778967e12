import { UserError } from '@golden-image/kit';
import { createTestContext } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { githubProvenance } from '../src/index.js';

const digest = `sha256:${'c'.repeat(64)}`;
const onGithub = {
  GITHUB_ACTIONS: 'true',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/?x=1',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
  GITHUB_TOKEN: 'ghs_x',
};

describe('GitHub build provenance (@actions/attest)', () => {
  test('auto: off outside GitHub Actions; false: never', async () => {
    const calls: unknown[] = [];
    const attest = async (options: unknown) => {
      calls.push(options);
      return {};
    };
    const { ctx } = createTestContext({}, { env: {} });
    expect((await githubProvenance(ctx, 'auto', { image: 'ghcr.io/o/a', digest, attest })).written).toBe(false);
    const gh = createTestContext({}, { env: onGithub }).ctx;
    expect((await githubProvenance(gh, 'false', { image: 'ghcr.io/o/a', digest, attest })).written).toBe(false);
    expect(calls).toEqual([]);
  });

  test('on GitHub: the image and digest are the subject, the job token is used', async () => {
    const calls: { subjects: unknown; token: string }[] = [];
    const { ctx } = createTestContext({}, { env: onGithub });
    const outcome = await githubProvenance(ctx, 'auto', {
      image: 'ghcr.io/o/a',
      digest,
      attest: async (options) => {
        calls.push(options);
        return { attestationID: '42' };
      },
    });
    expect(outcome).toEqual({ written: true, note: 'GitHub attestation 42' });
    expect(calls).toEqual([
      { subjects: [{ name: 'ghcr.io/o/a', digest: { sha256: 'c'.repeat(64) } }], token: 'ghs_x' },
    ]);
  });

  test('a refusal (no attestations: write) is a warning under auto and an error under true', async () => {
    const refuse = async () => {
      throw new Error('Resource not accessible by integration');
    };
    const { ctx, recorded } = createTestContext({}, { env: onGithub });
    expect((await githubProvenance(ctx, 'auto', { image: 'ghcr.io/o/a', digest, attest: refuse })).written).toBe(false);
    expect(recorded.warnings.join()).toMatch(/attestations: write/);
    await expect(githubProvenance(ctx, 'true', { image: 'ghcr.io/o/a', digest, attest: refuse })).rejects.toThrow(
      UserError,
    );
    const outside = createTestContext({}, { env: {} }).ctx;
    await expect(githubProvenance(outside, 'true', { image: 'ghcr.io/o/a', digest, attest: refuse })).rejects.toThrow(
      /no GitHub OIDC token/,
    );
  });
});
