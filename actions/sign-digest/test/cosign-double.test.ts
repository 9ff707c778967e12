// The cosign double must refuse what the real cosign refuses, or the action tests prove nothing.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, test } from '@jest/globals';
import { directClaims, startTokenServer, type TokenServer } from '../../../test/fixtures/signing/oidc.js';
import { COSIGN, digest, image, sandbox } from './harness.js';

const ref = `${image}@${digest}`;
const servers: TokenServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function cosign(
  args: string[],
  options: { version?: string; env?: NodeJS.ProcessEnv; input?: string; oidc?: boolean } = {},
) {
  const server = options.oidc === false ? undefined : await startTokenServer(directClaims());
  if (server) servers.push(server);
  const box = sandbox({ ...(server?.env ?? {}), ...options.env }, options.version ?? '2.6.5');
  // Asynchronously: spawnSync would block the event loop, and the token server with it.
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(COSIGN, args, { env: box.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('cosign double: argv checks', () => {
  test("unknown flags fail with exit 1 and cobra's message", async () => {
    const r = await cosign(['sign', '--yes', '--no-such-flag', ref]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error: unknown flag: --no-such-flag');
  });

  test('--new-bundle-format does not exist before v2.6', async () => {
    expect((await cosign(['sign', '--yes', '--new-bundle-format=false', ref], { version: '2.4.1' })).stderr).toContain(
      'unknown flag: --new-bundle-format',
    );
    expect((await cosign(['sign', '--yes', '--new-bundle-format=false', ref], { version: '2.6.5' })).status).toBe(0);
  });

  test('single-dash long flags are rewritten with a warning, as main.go does', async () => {
    const r = await cosign(['sign', '-yes', '--r', ref]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('WARNING: the flag -yes is deprecated');
    expect(r.stderr).toContain('Please use the flag -r.');
  });

  test('a bool given as a separate "false" becomes a positional argument', async () => {
    const r = await cosign(['sign', '--yes', '--recursive', 'false', ref]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Image reference false uses a tag');
    expect((await cosign(['sign', '--yes=maybe', ref])).stderr).toContain(
      'strconv.ParseBool: parsing "maybe": invalid syntax',
    );
  });

  test('--registry-referrers-mode: enum checked, oci-1-1 needs COSIGN_EXPERIMENTAL=1', async () => {
    expect((await cosign(['sign', '--yes', '--registry-referrers-mode=oci11', ref])).status).toBe(1);
    expect((await cosign(['sign', '--yes', '--registry-referrers-mode=oci-1-1', ref])).stderr).toContain(
      'COSIGN_EXPERIMENTAL=1',
    );
    const ok = await cosign(['sign', '--yes', '--registry-referrers-mode=oci-1-1', ref], {
      env: { COSIGN_EXPERIMENTAL: '1' },
    });
    expect(ok.status).toBe(0);
  });

  test('v3 conflicts: --new-bundle-format=false needs --use-signing-config=false; signing config vs custom URLs', async () => {
    const conflict = await cosign(['sign', '--yes', '--new-bundle-format=false', ref], { version: '3.1.3' });
    expect(conflict.status).toBe(1);
    expect(conflict.stderr).toContain('--use-signing-config');
    const urls = await cosign(['sign', '--yes', '--rekor-url', 'https://rekor.example', ref], { version: '3.1.3' });
    expect(urls.status).toBe(1);
    const legacy = await cosign(['sign', '--yes', '--new-bundle-format=false', '--use-signing-config=false', ref], {
      version: '3.1.3',
    });
    expect(legacy.status).toBe(0);
    expect(legacy.stderr).toContain('Pushing signature to:');
  });
});

describe('cosign double: behaviour', () => {
  test('without --yes it prompts on stderr and EOF on stdin fails; "y" or COSIGN_YES=true proceeds', async () => {
    const declined = await cosign(['sign', ref]);
    expect(declined.status).toBe(1);
    expect(declined.stderr).toContain('Are you sure you would like to continue? [y/N]');
    expect((await cosign(['sign', ref], { input: 'y\n' })).status).toBe(0);
    expect((await cosign(['sign', ref], { env: { COSIGN_YES: 'true' } })).status).toBe(0);
  });

  test('keyless sign without GitHub OIDC fails', async () => {
    const r = await cosign(['sign', '--yes', ref], { oidc: false });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ACTIONS_ID_TOKEN_REQUEST_URL');
  });

  test('verify needs an identity and an issuer in keyless mode, and a digest it signed', async () => {
    const none = await cosign(['verify', ref]);
    expect(none.stderr).toContain('--certificate-identity or --certificate-identity-regexp is required');
    const unsigned = await cosign(['verify', '--certificate-identity', 'x', '--certificate-oidc-issuer', 'y', ref]);
    expect(unsigned.status).toBe(10);
    expect(unsigned.stderr).toContain('Error: no signatures found');
  });

  test('version prints the banner with GitVersion on stdout', async () => {
    const r = await cosign(['version'], { version: '3.1.3', oidc: false });
    expect(r.stdout).toMatch(/^GitVersion: {4}v3\.1\.3$/m);
  });
});
