import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopChild, waitUntilUp } from './child.js';
import { tempDir } from './fixtures.js';
import { freePort } from './registry.js';

export interface TestFulcio {
  /** `http://127.0.0.1:PORT`, for cosign sign --fulcio-url. */
  url: string;
  /** The ephemeral CA's chain (PEM), as GET /api/v1/rootCert serves it. */
  chainPem: string;
  /** A file holding chainPem, for cosign verify --certificate-chain. */
  chainFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the real Fulcio (`fulcio serve`) with an ephemeral CA, no CT log, and a config that trusts one OIDC issuer
 * as a GitHub Actions issuer (type github-workflow), on free loopback ports. HTTP and gRPC get ports of their own:
 * fulcio 1.8.8 panics in duplex mode (one port for both; its gRPC metrics are registered twice). The separate servers
 * also listen on an abstract Unix socket, by default @fulcio-legacy-grpc-socket for every instance: each gets a
 * name of its own, so instances (and test files) can run side by side.
 * Certificates it issues live 10 minutes.
 */
export async function startFulcio(fulcio: string, issuerUrl: string): Promise<TestFulcio> {
  const dir = tempDir('golden-image-fulcio-');
  const config = join(dir, 'fulcio.json');
  writeFileSync(
    config,
    JSON.stringify({
      OIDCIssuers: { [issuerUrl]: { IssuerURL: issuerUrl, ClientID: 'sigstore', Type: 'github-workflow' } },
    }),
  );
  const [port, grpcPort, metrics] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    fulcio,
    [
      'serve',
      '--ca',
      'ephemeralca',
      '--ct-log-url',
      '',
      '--config-path',
      config,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--grpc-host',
      '127.0.0.1',
      '--grpc-port',
      String(grpcPort),
      '--metrics-port',
      String(metrics),
      '--legacy-unix-domain-socket',
      `@golden-image-fulcio-${randomBytes(8).toString('hex')}`,
      '--log_type',
      'prod',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const url = `http://127.0.0.1:${port}`;
  const chainPem = await waitUntilUp(
    'fulcio',
    async () => {
      const response = await fetch(`${url}/api/v1/rootCert`);
      const pem = response.ok ? await response.text() : '';
      return pem.includes('BEGIN CERTIFICATE') ? pem : undefined;
    },
    { child, up: `serve ${url}/api/v1/rootCert`, timeoutMs: 30_000, output: () => stderr },
  );
  const chainFile = join(dir, 'chain.pem');
  writeFileSync(chainFile, chainPem);
  return { url, chainPem, chainFile, stop: () => stopChild(child) };
}
