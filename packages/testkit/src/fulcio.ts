import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const chainPem = await waitForRootCert(url, child, () => stderr);
  const chainFile = join(dir, 'chain.pem');
  writeFileSync(chainFile, chainPem);
  return { url, chainPem, chainFile, stop: () => stop(child) };
}

async function waitForRootCert(url: string, child: ChildProcess, stderr: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`fulcio exited with ${child.exitCode}:\n${stderr()}`);
    try {
      const response = await fetch(`${url}/api/v1/rootCert`);
      if (response.ok) {
        const pem = await response.text();
        if (pem.includes('BEGIN CERTIFICATE')) return pem;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`fulcio did not serve ${url}/api/v1/rootCert within 30 s:\n${stderr()}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
