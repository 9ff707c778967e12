import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { npmSandbox, registryKey } from './npm-env.js';

export interface DependencyTree {
  /** A directory holding package.json and package-lock.json (and bundled node_modules): what the scanners read. */
  dir: string;
  source: 'npm-shrinkwrap.json' | 'resolved' | 'no dependencies';
  /** Packages in the lockfile, the package itself left out. */
  packages: number;
}

/** What a consumer's install ignores in a dependency's package.json. */
const NOT_FOR_CONSUMERS = ['devDependencies', 'scripts', 'overrides', 'workspaces'];

type Lockfile = {
  packages?: Record<string, { dev?: boolean; devOptional?: boolean }>;
  dependencies?: Record<string, { dev?: boolean }>;
};

/** Drops what a consumer never installs: dev dependencies (a shrinkwrap keeps them, marked dev). */
function withoutDev(lock: Lockfile): Lockfile {
  const packages = lock.packages
    ? Object.fromEntries(Object.entries(lock.packages).filter(([, entry]) => !entry.dev))
    : undefined;
  const dependencies = lock.dependencies
    ? Object.fromEntries(Object.entries(lock.dependencies).filter(([, entry]) => !entry.dev))
    : undefined;
  return { ...lock, ...(packages ? { packages } : {}), ...(dependencies ? { dependencies } : {}) };
}

/**
 * The dependency tree a consumer installs with this package: its own npm-shrinkwrap.json when it ships one (npm
 * honours it), else a lockfile resolved in a copy of its package.json without dev dependencies, scripts or
 * overrides (`npm install --package-lock-only --omit=dev --ignore-scripts`), with bundled dependencies as shipped.
 * Written as package-lock.json: Trivy reads no other npm lockfile name.
 */
export async function dependencyTree(
  ctx: ActionContext,
  options: { unpacked: string; work: string; registry: URL; token?: string; npm?: string },
): Promise<DependencyTree> {
  const dir = join(options.work, 'dependencies');
  await mkdir(dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(options.unpacked, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const consumer = Object.fromEntries(Object.entries(manifest).filter(([key]) => !NOT_FOR_CONSUMERS.includes(key)));
  await writeFile(join(dir, 'package.json'), JSON.stringify(consumer, null, 2));
  if (existsSync(join(options.unpacked, 'node_modules'))) {
    await cp(join(options.unpacked, 'node_modules'), join(dir, 'node_modules'), { recursive: true });
  }
  const shrinkwrap = join(options.unpacked, 'npm-shrinkwrap.json');
  let lock: Lockfile;
  let source: DependencyTree['source'];
  const depends = ['dependencies', 'optionalDependencies', 'peerDependencies'].some(
    (field) => Object.keys((consumer[field] as object | undefined) ?? {}).length > 0,
  );
  if (existsSync(shrinkwrap)) {
    try {
      lock = JSON.parse(await readFile(shrinkwrap, 'utf8')) as Lockfile;
    } catch (error) {
      throw new UserError(`The tarball's npm-shrinkwrap.json is not valid JSON: ${(error as Error).message}`);
    }
    source = 'npm-shrinkwrap.json';
  } else if (!depends) {
    return { dir, source: 'no dependencies', packages: 0 };
  } else {
    const config = [`registry=${options.registry.href}`];
    if (options.token) config.push(`${registryKey(options.registry)}:_authToken=${options.token}`);
    const sandbox = await npmSandbox(ctx.env, join(options.work, 'npm'), { config });
    const args = ['install', '--package-lock-only', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
    const result = await ctx.runner.run(options.npm ?? 'npm', args, { cwd: dir, env: sandbox.env });
    if (result.exitCode !== 0) {
      throw new UserError(
        `Resolving the dependencies a consumer would install failed (npm exited ${result.exitCode}; registry ${options.registry.href}): ${lastLines(result.stderr)}`,
      );
    }
    lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as Lockfile;
    source = 'resolved';
  }
  const kept = withoutDev(lock);
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(kept, null, 2));
  const packages = kept.packages
    ? Object.keys(kept.packages).filter((key) => key !== '').length
    : Object.keys(kept.dependencies ?? {}).length;
  return { dir, source, packages };
}
