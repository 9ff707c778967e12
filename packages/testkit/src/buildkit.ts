import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, stopChild, waitUntilUp } from './child.js';

export interface TestBuildkit {
  /** `unix:///…/buildkitd.sock`, private to this daemon. */
  address: string;
  /**
   * Environment in which `docker buildx …` (the docker CLI, no engine) reaches this daemon: DOCKER_CONFIG holds the
   * buildx plugin and a remote-driver builder, BUILDX_BUILDER names it.
   */
  env: Record<string, string>;
  builder: string;
  /** buildkitd's own output so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

export interface BuildkitOptions {
  /** Path of the real buildkitd (realTool('buildkitd')). */
  buildkitd: string;
  /** Path of the real buildx plugin binary (realTool('docker-buildx')). */
  buildx: string;
  /** The docker CLI client (default `docker` on PATH; no engine is needed). */
  docker?: string;
  /** buildkitd.toml (registry mirrors, for example). */
  config?: string;
}

/**
 * Starts a real buildkitd as root with the OCI worker (runc from Debian) and the native snapshotter, on a unix socket
 * of its own, with its own state directory, and a buildx remote-driver builder for it. No network is used: a build
 * that needs an image from a registry fails, as it would on a machine without access.
 */
export async function startBuildkit(options: BuildkitOptions): Promise<TestBuildkit> {
  if (process.getuid?.() !== 0) throw new Error('buildkitd with the OCI worker runs as root here');
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error("buildkitd's OCI worker needs runc: apt-get install runc");
  }
  const dir = mkdtempSync(join(tmpdir(), 'gi-bk-'));
  const socket = join(dir, 'buildkitd.sock');
  const address = `unix://${socket}`;
  const child = spawn(
    options.buildkitd,
    [
      '--addr',
      address,
      '--root',
      join(dir, 'state'),
      '--oci-worker=true',
      '--oci-worker-snapshotter=native',
      '--containerd-worker=false',
      ...(options.config ? ['--config', writeConfig(dir, options.config)] : []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const stop = async () => {
    await stopChild(child, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilUp('buildkitd', () => accepts(socket), {
      child,
      up: `listen on ${socket}`,
      timeoutMs: 60_000,
      output: () => output.slice(-2000),
    });
    const config = join(dir, 'docker');
    mkdirSync(join(config, 'cli-plugins'), { recursive: true });
    symlinkSync(options.buildx, join(config, 'cli-plugins', 'docker-buildx'));
    const builder = 'golden-image-test';
    const env = { DOCKER_CONFIG: config, BUILDX_BUILDER: builder };
    const docker = options.docker ?? 'docker';
    const run = (args: string[]) =>
      execFileSync(docker, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    run(['buildx', 'create', '--name', builder, '--driver', 'remote', address]);
    run(['buildx', 'inspect', '--bootstrap', builder]);
    return { address, env, builder, log: () => output, stop };
  } catch (error) {
    await stop();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`${(error as Error).message}\n${stderr}\nbuildkitd:\n${output.slice(-4000)}`);
  }
}

function writeConfig(dir: string, config: string): string {
  const file = join(dir, 'buildkitd.toml');
  writeFileSync(file, config);
  return file;
}
