import { posix } from 'node:path';
import { installFacts, normaliseBin } from './install-facts.js';

export interface ManifestFinding {
  kind: 'install-script' | 'missing-file';
  detail: string;
  blocking: boolean;
}

function inPackage(path: string): string {
  return posix.join('/', path).slice(1);
}

/** How Node resolves a `main` that names no exact file. */
function mainCandidates(main: string): string[] {
  const base = inPackage(main).replace(/\/$/, '');
  return [
    base,
    `${base}.js`,
    `${base}.json`,
    `${base}.node`,
    `${base}/index.js`,
    `${base}/index.json`,
    `${base}/index.node`,
  ];
}

/** Every target string of an `exports` (or `imports`) map, with the condition path that leads to it. */
function exportTargets(value: unknown, where: string, out: [string, string][]): [string, string][] {
  if (typeof value === 'string') out.push([where, value]);
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) exportTargets(item, `${where}[${i}]`, out);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) exportTargets(item, `${where}["${key}"]`, out);
  }
  return out;
}

function patternMatches(target: string, files: ReadonlySet<string>): boolean {
  const [before, after] = inPackage(target).split('*') as [string, string | undefined];
  return [...files].some((file) => file.startsWith(before) && file.endsWith(after ?? ''));
}

/**
 * The tarball's package.json against its own files: install hooks (which run on every consumer's machine) are
 * flagged, blocking unless allowed; a bin, main, exports or types target missing from the tarball is a broken
 * package and always blocks.
 */
export function checkManifest(
  manifest: Record<string, unknown>,
  files: ReadonlySet<string>,
  options: { allowInstallScripts: boolean },
): ManifestFinding[] {
  const findings: ManifestFinding[] = [];
  for (const [hook, script] of Object.entries(installFacts(manifest, files).installScripts)) {
    findings.push({
      kind: 'install-script',
      detail: `scripts.${hook} runs on every install: ${JSON.stringify(script)}`,
      blocking: !options.allowInstallScripts,
    });
  }
  const missing = (detail: string) => findings.push({ kind: 'missing-file', detail, blocking: true });
  for (const [name, target] of Object.entries(normaliseBin(manifest, files))) {
    if (!files.has(target)) missing(`bin.${name} -> ${target} is not in the tarball`);
  }
  if (typeof manifest.main === 'string' && manifest.main !== '') {
    if (!mainCandidates(manifest.main).some((candidate) => files.has(candidate))) {
      missing(`main -> ${manifest.main} is not in the tarball`);
    }
  }
  for (const field of ['types', 'typings', 'module'] as const) {
    const value = manifest[field];
    if (typeof value === 'string' && value !== '' && !files.has(inPackage(value))) {
      missing(`${field} -> ${value} is not in the tarball`);
    }
  }
  for (const [where, target] of exportTargets(manifest.exports, 'exports', [])) {
    if (!target.startsWith('./')) continue;
    const found = target.includes('*') ? patternMatches(target, files) : files.has(inPackage(target));
    if (!found) missing(`${where} -> ${target} is not in the tarball`);
  }
  return findings;
}
