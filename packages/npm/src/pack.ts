import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { hashFile } from './integrity.js';
import { npmSandbox } from './npm-env.js';
import { parsePackJson } from './pack-json.js';
import { readTarballManifest } from './tarball.js';

export interface PackResult {
  tarballPath: string;
  integrity: string;
  shasum: string;
  name: string;
  version: string;
  /** Paths inside the tarball, below package/. */
  files: string[];
  size: number;
  unpackedSize: number;
}

export interface PackOptions {
  /** The package directory (absolute). */
  dir: string;
  /** Run the lifecycle scripts `npm publish` runs for a directory before it uploads: prepublishOnly, prepack, prepare, postpack. */
  scripts: boolean;
  npm?: string;
}

/**
 * `npm pack --json` once, into an empty private directory, and proof that the one tarball it wrote is the one it
 * described: SHA-512 and SHA-1 re-hashed, and the name and version inside equal to npm's.
 */
export async function packDirectory(ctx: ActionContext, options: PackOptions): Promise<PackResult> {
  const npm = options.npm ?? 'npm';
  if (!existsSync(join(options.dir, 'package.json')) || !statSync(join(options.dir, 'package.json')).isFile()) {
    throw new UserError(`Input "path": ${options.dir} has no package.json; give the directory of the package to pack.`);
  }
  const work = await mkdtemp(join(ctx.tempDir, 'golden-image-pack-'));
  const destination = join(work, 'out');
  const sandbox = await npmSandbox(ctx.env, work, { jobCode: true });
  await mkdir(destination, { mode: 0o700 });

  if (options.scripts) {
    const pre = await ctx.runner.run(npm, ['run', 'prepublishOnly', '--if-present'], {
      cwd: options.dir,
      env: sandbox.env,
    });
    if (pre.exitCode !== 0) {
      throw new UserError(`The prepublishOnly script failed (npm exited ${pre.exitCode}): ${lastLines(pre.stderr)}`);
    }
  }
  const args = ['pack', options.dir, '--json', '--pack-destination', destination];
  if (!options.scripts) args.push('--ignore-scripts');
  const result = await ctx.runner.run(npm, args, { cwd: options.dir, env: sandbox.env });
  if (result.exitCode !== 0) {
    throw new UserError(
      `npm pack failed in ${options.dir} (exit code ${result.exitCode}): ${lastLines(result.stderr)}`,
    );
  }
  const entries = parsePackJson(result.stdout.toString('utf8'));
  const written = await readdir(destination);
  if (entries.length !== 1 || written.length !== 1) {
    throw new UserError(
      `npm pack must make exactly one tarball; it described ${entries.length} (${entries.map((e) => e.filename).join(', ')}) and wrote ${written.length} (${written.join(', ')}). Point "path" at one package, not a workspace root.`,
    );
  }
  const entry = entries[0] as (typeof entries)[number];
  if (written[0] !== entry.filename) {
    throw new UserError(`npm pack described ${entry.filename} but wrote ${written[0]}.`);
  }
  const tarballPath = join(destination, entry.filename);
  const hash = await hashFile(tarballPath);
  if (hash.integrity !== entry.integrity || hash.shasum !== entry.shasum) {
    throw new UserError(
      `The tarball npm pack wrote does not hash to what it printed: integrity ${hash.integrity} (npm said ${entry.integrity}), shasum ${hash.shasum} (npm said ${entry.shasum}).`,
    );
  }
  const { manifest, listing } = await readTarballManifest(tarballPath);
  if (manifest.name !== entry.name || manifest.version !== entry.version) {
    throw new UserError(
      `The tarball's package.json names ${String(manifest.name)}@${String(manifest.version)}, but npm pack reported ${entry.name}@${entry.version}.`,
    );
  }
  return {
    tarballPath,
    integrity: hash.integrity,
    shasum: hash.shasum,
    name: entry.name,
    version: entry.version,
    files: listing.files.map((file) => file.path),
    size: hash.size,
    unpackedSize: listing.unpackedBytes,
  };
}
