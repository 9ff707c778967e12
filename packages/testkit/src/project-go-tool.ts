import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './fixtures.js';
import { realToolsBin } from './real-tools.js';

const run = promisify(execFile);
const building = new Map<string, Promise<string>>();

/**
 * A small Go program of the project's (script/<name>: go.mod, go.sum, main.go), built with `go build` once into the
 * real-tools bin directory as golden-image-<name>, and rebuilt when its sources change (their hash is stamped).
 */
export function projectGoTool(name: string): Promise<string> {
  let pending = building.get(name);
  if (!pending) {
    pending = build(name);
    building.set(name, pending);
  }
  return pending;
}

async function build(name: string): Promise<string> {
  const source = join(repoRoot, 'packages', 'testkit', 'programs', name);
  const tool = join(realToolsBin, `golden-image-${name}`);
  const stamp = join(realToolsBin, `.golden-image-${name}.sha256`);
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(file).update(readFileSync(join(source, file)));
  const want = hash.digest('hex');
  if (existsSync(tool) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return tool;
  await mkdir(realToolsBin, { recursive: true });
  const temp = `${tool}.${process.pid}.tmp`;
  try {
    await run('go', ['build', '-trimpath', '-o', temp, '.'], {
      cwd: source,
      env: { ...process.env, CGO_ENABLED: '0' },
      maxBuffer: 16 << 20,
    });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`go build of script/${name} failed (Go and the module proxy are needed): ${stderr ?? error}`);
  }
  await rename(temp, tool);
  await writeFile(stamp, want);
  return tool;
}
