import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestContext } from '@golden-image/testkit';
import { DOUBLES_BIN as DOUBLES } from '../../../test/doubles/lib/harness.js';
import { main } from '../main.js';

export { useDoublesOnPath as putDoublesOnPath } from '../../../test/doubles/lib/harness.js';
export const COSIGN = join(DOUBLES, 'cosign');
export const digest = `sha256:${'5e'.repeat(32)}`;
export const otherDigest = `sha256:${'0d'.repeat(32)}`;
export const image = 'registry.example.com/octo-org/app';

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** argv of every cosign invocation, in order. */
  calls(): string[][];
}

/** A fresh double state (the "registry") and invocation log; no OIDC variables unless given. */
export function sandbox(extra: NodeJS.ProcessEnv = {}, version = '2.6.5'): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'sign-digest-'));
  const log = join(dir, 'cosign.log');
  const {
    ACTIONS_ID_TOKEN_REQUEST_URL: _u,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: _t,
    COSIGN_PASSWORD: _p,
    COSIGN_REPOSITORY: _r,
    ...base
  } = process.env;
  const env = {
    ...base,
    PATH: `${DOUBLES}:${base.PATH}`,
    COSIGN_DOUBLE_STATE: join(dir, 'state'),
    COSIGN_DOUBLE_LOG: log,
    COSIGN_DOUBLE_VERSION: version,
    ...extra,
  };
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { argv: string[] }).argv)
      : [];
  return { dir, env, calls };
}

export async function runSignDigest(inputs: Record<string, string>, box: Sandbox) {
  const { ctx, recorded } = createTestContext(
    { image, digest, 'install-tools': 'false', ...inputs },
    { env: box.env, tempDir: join(box.dir, 'runner-temp') },
  );
  let error: Error | undefined;
  try {
    await main(ctx);
  } catch (caught) {
    error = caught as Error;
  }
  return { ctx, recorded, error };
}
