import { posix } from 'node:path';

/** What an install does with a package, read from a manifest: what it fetches, links and runs. */
export interface InstallFacts {
  /** dependencies and optionalDependencies together, as npm installs them. */
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  bundleDependencies: string[];
  bin: Record<string, string>;
  /** preinstall, install, postinstall (with the implicit `node-gyp rebuild` of a binding.gyp). */
  installScripts: Record<string, string>;
  os: string[];
  cpu: string[];
  libc: string[];
}

export const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall'] as const;

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `user/repo` is npm's shorthand for `github:user/repo`; npm rewrites it on publish. */
function spec(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : String(value);
  return /^[^@:/\s]+\/[^/\s]+(#.*)?$/.test(text) ? `github:${text}` : text;
}

function depMap(value: unknown): Record<string, string> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((name) => [String(name), '*']));
  return Object.fromEntries(Object.entries(record(value)).map(([name, range]) => [name, spec(range)]));
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.map(String) : [];
}

/** Bin names and paths as npm normalises them: `name` from a string bin, `./x` as `x`, no climbing out. */
export function normaliseBin(manifest: Record<string, unknown>, files: Iterable<string>): Record<string, string> {
  const name = typeof manifest.name === 'string' ? manifest.name : '';
  let raw: Record<string, unknown> = {};
  if (typeof manifest.bin === 'string') raw = { [name.replace(/^@[^/]+\//, '')]: manifest.bin };
  else if (manifest.bin && typeof manifest.bin === 'object') raw = record(manifest.bin);
  else {
    const binDir = record(manifest.directories).bin;
    if (typeof binDir === 'string') {
      const dir = posix.join('/', binDir).slice(1);
      for (const file of files) {
        if (file.startsWith(`${dir}/`) && !posix.basename(file).startsWith('.')) raw[posix.basename(file)] = file;
      }
    }
  }
  const bin: Record<string, string> = {};
  for (const [key, target] of Object.entries(raw)) {
    if (typeof target !== 'string') continue;
    const base = posix.basename(key.replace(/[\\:]/g, '/'));
    const path = posix.join('/', target.replace(/\\/g, '/')).slice(1);
    if (base && base !== '.' && base !== '..' && path) bin[base] = path;
  }
  return bin;
}

export function installFacts(manifest: Record<string, unknown>, files: Iterable<string>): InstallFacts {
  const fileList = [...files];
  const optional = depMap(manifest.optionalDependencies);
  const dependencies = { ...depMap(manifest.dependencies), ...optional };
  const scripts = record(manifest.scripts);
  const installScripts: Record<string, string> = {};
  for (const hook of INSTALL_HOOKS) if (typeof scripts[hook] === 'string') installScripts[hook] = scripts[hook];
  // npm runs `node-gyp rebuild` for a package with a binding.gyp and no install or preinstall script.
  if (
    !installScripts.install &&
    !installScripts.preinstall &&
    manifest.gypfile !== false &&
    fileList.includes('binding.gyp')
  ) {
    installScripts.install = 'node-gyp rebuild';
  }
  const bundled = manifest.bundleDependencies ?? manifest.bundledDependencies;
  const bundleDependencies =
    bundled === true ? Object.keys(depMap(manifest.dependencies)) : strings(bundled === false ? [] : bundled);
  return {
    dependencies,
    optionalDependencies: optional,
    peerDependencies: depMap(manifest.peerDependencies),
    bundleDependencies: [...bundleDependencies].sort(),
    bin: normaliseBin(manifest, fileList),
    installScripts,
    os: strings(manifest.os).sort(),
    cpu: strings(manifest.cpu).sort(),
    libc: strings(manifest.libc).sort(),
  };
}

/** Every difference between what the tarball says and what the registry serves, one line each. */
export function compareInstallFacts(tarball: InstallFacts, served: InstallFacts): string[] {
  const differences: string[] = [];
  const show = (value: string | undefined) => (value === undefined ? '(absent)' : JSON.stringify(value));
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bin', 'installScripts'] as const) {
    const want = tarball[field];
    const have = served[field];
    for (const key of [...new Set([...Object.keys(want), ...Object.keys(have)])].sort()) {
      if (want[key] !== have[key]) {
        differences.push(`${field}.${key}: the registry serves ${show(have[key])}, the tarball has ${show(want[key])}`);
      }
    }
  }
  for (const field of ['bundleDependencies', 'os', 'cpu', 'libc'] as const) {
    const want = tarball[field].join(',');
    const have = served[field].join(',');
    if (want !== have) differences.push(`${field}: the registry serves [${have}], the tarball has [${want}]`);
  }
  return differences;
}
