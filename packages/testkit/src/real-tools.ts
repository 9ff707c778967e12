import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where `npm run tools:real` puts the real binaries (bin/trivy, bin/cosign, bin/cosign-v3, ...). */
export const realToolsDir = process.env.GOLDEN_IMAGE_TOOLS_DIR || join(homedir(), '.cache', 'golden-image', 'tools');
export const realToolsBin = join(realToolsDir, 'bin');

const said = new Set<string>();

/** How each tool prints its version (the rest answer --version). */
const VERSION_ARGS: Record<string, string[]> = {
  cosign: ['version'],
  'cosign-v3': ['version'],
  fulcio: ['version'],
  syft: ['version'],
  kyverno: ['version'],
  'docker-buildx': ['version'],
};

/**
 * The absolute path of a real tool built or downloaded by `npm run tools:real`, or undefined when it is missing.
 * Off CI a missing tool prints one plain line and its tests skip; on CI (CI=true) it is an error, so the real tier
 * can never pass by skipping.
 */
export function realTool(bin: string, versionArgs: string[] = VERSION_ARGS[bin] ?? ['--version']): string | undefined {
  const path = join(realToolsBin, bin);
  let works = existsSync(path);
  if (works) {
    try {
      execFileSync(path, versionArgs, { stdio: 'ignore', timeout: 60_000 });
    } catch {
      works = false;
    }
  }
  if (works) return path;
  if (process.env.CI) throw new Error(`${path} is missing or does not run; CI runs 'npm run tools:real' first.`);
  if (!said.has(bin)) {
    said.add(bin);
    process.stdout.write(`skipping the tests that need the real ${bin}: run 'npm run tools:real ${bin}' first\n`);
  }
  return undefined;
}

/** Every named real tool, or undefined when any is missing (see realTool). */
export function realTools<T extends string>(...bins: T[]): Record<T, string> | undefined {
  const found = bins.map((bin) => [bin, realTool(bin)] as const);
  if (found.some(([, path]) => !path)) return undefined;
  return Object.fromEntries(found) as Record<T, string>;
}

/**
 * A directory to put first on PATH in which each name runs the given real binary: `{ cosign: '/…/cosign-v3' }`
 * makes `cosign` the v3 build, as the actions find tools on PATH with install-tools: false.
 */
export function pathDirFor(commands: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-real-bin-'));
  for (const [name, target] of Object.entries(commands)) symlinkSync(target, join(dir, name));
  return dir;
}
