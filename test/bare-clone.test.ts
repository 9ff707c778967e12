// `npm ci && npm test` must pass in a bare clone with nothing beside it: no test, test helper, tool double or
// script may read a path outside the repository (the third-party fixtures live in test/fixtures/third-party).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '@golden-image/testkit';
import { describe, expect, it } from '@jest/globals';

const ROOTS = ['test', 'script', 'packages', 'actions'];
const SKIP = new Set(['node_modules', 'fixtures', 'dist', 'src-generated']);

function codeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP.has(name)) out.push(...codeFiles(path));
    } else if (/\.(ts|mjs|cjs|js)$/.test(name) || dir.endsWith(join('doubles', 'bin'))) {
      out.push(path);
    }
  }
  return out;
}

// This file spells the patterns it looks for, so it is left out.
const files = ROOTS.flatMap((root) => codeFiles(join(repoRoot, root))).filter(
  (file) => !file.endsWith('bare-clone.test.ts'),
);
const inside = (path: string) => !relative(repoRoot, path).startsWith('..');

describe('nothing the tests run reads outside the repository', () => {
  it('finds the code to check', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(files.map((file) => [relative(repoRoot, file), file]))('%s', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const escapes: string[] = [];
    // The workplace's shared folder beside the repository, however it is spelled.
    for (const match of text.matchAll(/['"`/]shared['"`/]/g)) escapes.push(`names ${match[0]}`);
    // new URL('../..', import.meta.url) that climbs out of the repository.
    for (const match of text.matchAll(/new URL\(\s*'([^']+)'\s*,\s*import\.meta\.url\s*\)/g)) {
      const target = resolve(dirname(file), match[1] as string);
      if (!inside(target)) escapes.push(`new URL('${match[1]}') resolves to ${target}`);
    }
    // join(HERE, '..', '..', ...) chains: count the climbs against the file's depth.
    for (const match of text.matchAll(/join\(\s*(?:HERE|__dirname|here)\s*((?:,\s*'\.\.'\s*)+)/g)) {
      const ups = (match[1]?.match(/'\.\.'/g) ?? []).length;
      const target = resolve(dirname(file), ...Array(ups).fill('..'));
      if (!inside(target)) escapes.push(`join(…, ${ups} × '..') resolves to ${target}`);
    }
    expect(escapes).toEqual([]);
  });
});
