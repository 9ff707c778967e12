import { describe, expect, test } from '@jest/globals';
import { pathGlob, reviewContents } from '../src/index.js';

describe('reviewContents', () => {
  const paths = [
    'package.json',
    '.env',
    'config/.env.production',
    '.env.example',
    'certs/server.pem',
    'deploy/id_ed25519',
    '.npmrc',
    'lib/index.js',
    'fixtures/dump.sql',
  ];

  test('the built-in list refuses secrets-by-name, not templates; deny adds globs; allow exempts', () => {
    expect(reviewContents(paths, [], []).map((f) => f.path)).toEqual([
      '.env',
      'config/.env.production',
      'certs/server.pem',
      'deploy/id_ed25519',
      '.npmrc',
    ]);
    const findings = reviewContents(paths, ['**/*.sql'], ['certs/**']);
    expect(findings.map((f) => f.path)).toEqual([
      '.env',
      'config/.env.production',
      'deploy/id_ed25519',
      '.npmrc',
      'fixtures/dump.sql',
    ]);
    expect(findings.at(-1)?.rule).toBe('deny input [**/*.sql]');
    expect(findings[0]?.rule).toMatch(/environment file/);
  });

  test('pathGlob: * stays in a directory, ** crosses them, **/ also matches at the top', () => {
    expect(pathGlob('lib/*.js', 'lib/a.js')).toBe(true);
    expect(pathGlob('lib/*.js', 'lib/x/a.js')).toBe(false);
    expect(pathGlob('lib/**', 'lib/x/a.js')).toBe(true);
    expect(pathGlob('**/.env', '.env')).toBe(true);
    expect(pathGlob('**/.env', 'a/b/.env')).toBe(true);
    expect(pathGlob('?.txt', 'a.txt')).toBe(true);
    expect(pathGlob('a.b', 'axb')).toBe(false);
  });
});
