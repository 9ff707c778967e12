import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './fixtures.js';
import { realToolsBin } from './real-tools.js';
import type { TestRegistry } from './registry.js';

const run = promisify(execFile);
const SOURCE = join(repoRoot, 'script', 'referrers-registry');
const TOOL = join(realToolsBin, 'golden-image-referrers-registry');
const STAMP = join(realToolsBin, '.golden-image-referrers-registry.sha256');

let building: Promise<string> | undefined;

/** script/referrers-registry, built with `go build` once into the real-tools bin directory (rebuilt on change). */
export function referrersRegistryTool(): Promise<string> {
  building ??= buildTool();
  return building;
}

async function buildTool(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(file).update(readFileSync(join(SOURCE, file)));
  const want = hash.digest('hex');
  if (existsSync(TOOL) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === want) return TOOL;
  await mkdir(realToolsBin, { recursive: true });
  const temp = `${TOOL}.${process.pid}.tmp`;
  try {
    await run('go', ['build', '-trimpath', '-o', temp, '.'], {
      cwd: SOURCE,
      env: { ...process.env, CGO_ENABLED: '0' },
      maxBuffer: 16 << 20,
    });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(
      `go build of script/referrers-registry failed (Go and the module proxy are needed): ${stderr ?? error}`,
    );
  }
  await rename(temp, TOOL);
  await writeFile(STAMP, want);
  return TOOL;
}

/**
 * A registry with the OCI 1.1 referrers API (go-containerregistry's pkg/registry, in memory) on a free loopback
 * port: GET /v2/<name>/referrers/<digest> answers 200, so clients store referrers there instead of in the
 * sha256-<hex> fallback tag that the distribution registry (startRegistry) needs.
 */
export async function startReferrersRegistry(): Promise<TestRegistry> {
  const child = spawn(await referrersRegistryTool(), [], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`the referrers registry did not start: ${log.join('\n')}`)),
      15_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(\d+)\n/.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(Number(line[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`the referrers registry exited with ${code}: ${log.join('\n')}`)));
  });
  return {
    host: `localhost:${port}`,
    port,
    storage: '',
    requests: (pattern) => log.filter((line) => pattern.test(line)),
    stop: () => stop(child),
  };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
