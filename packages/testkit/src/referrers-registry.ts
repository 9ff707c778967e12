import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { stopChild } from './child.js';
import { projectGoTool } from './project-go-tool.js';
import type { TestRegistry } from './registry.js';

const _run = promisify(execFile);

/** packages/testkit/programs/referrers-registry, built with `go build` once into the real-tools bin directory (rebuilt on change). */
export function referrersRegistryTool(): Promise<string> {
  return projectGoTool('referrers-registry');
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
    stop: () => stopChild(child),
  };
}
