import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { craftTarball, MANIFEST } from '../../../test/fixtures/npm/craft.js';
import { entryNameProblem, readTarballManifest, unpackTarball } from '../src/index.js';

const manifest = { name: 'package/package.json', data: MANIFEST() };

describe('readTarball: only what npm pack writes', () => {
  test.each([
    ['package/../evil.js', /climbs out of the package/],
    ['package/lib/../../evil.js', /climbs out of the package/],
    ['/etc/evil', /absolute path/],
    ['C:/evil', /absolute path/],
    ['other/index.js', /outside package\//],
    ['index.js', /outside package\//],
    ['package\\..\\evil.js', /backslash/],
    ['package/evil\u0007.js', /control character/],
  ])('%s is refused', async (name, why) => {
    const tarball = await craftTarball([manifest, { name, data: 'x' }]);
    await expect(readTarballManifest(tarball)).rejects.toThrow(why);
    expect(entryNameProblem(name)).toMatch(why);
  });

  test.each([
    ['symlink', '/etc/passwd'],
    ['link', 'package/package.json'],
    ['character-device', undefined],
    ['fifo', undefined],
  ] as const)('a %s entry is refused, naming its target', async (type, linkname) => {
    const tarball = await craftTarball([manifest, { name: 'package/lib', type, ...(linkname ? { linkname } : {}) }]);
    const error = await readTarballManifest(tarball).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`is a ${type}`);
    if (linkname) expect((error as Error).message).toContain(linkname);
  });

  test('a file twice, a missing package.json, too many entries, too many bytes, not gzip', async () => {
    await expect(
      readTarballManifest(await craftTarball([manifest, { name: 'package/a.js' }, { name: 'package/./a.js' }])),
    ).rejects.toThrow(/appears twice/);
    await expect(readTarballManifest(await craftTarball([{ name: 'package/index.js', data: 'x' }]))).rejects.toThrow(
      /no package\/package\.json/,
    );
    const many = await craftTarball([manifest, ...Array.from({ length: 10 }, (_, i) => ({ name: `package/${i}.js` }))]);
    await expect(readTarballManifest(many, { maxEntries: 5, maxUnpackedBytes: 1 << 20 })).rejects.toThrow(
      /more than 5 entries/,
    );
    // 64 MiB of zeros compress to 64 KiB: the limit stops it while decompressing.
    const bomb = await craftTarball([manifest, { name: 'package/zeros.bin', data: Buffer.alloc(64 << 20) }]);
    expect(statSync(bomb).size).toBeLessThan(1 << 20);
    await expect(readTarballManifest(bomb, { maxEntries: 100, maxUnpackedBytes: 1 << 20 })).rejects.toThrow(
      /more than 1048576 bytes/,
    );
    const plain = join(tempDir(), 'plain.tgz');
    writeFileSync(plain, 'not a tarball');
    await expect(readTarballManifest(plain)).rejects.toThrow(/not a gzip-compressed tar archive/);
    const notTar = join(tempDir(), 'not-tar.tgz');
    writeFileSync(notTar, gzipSync(Buffer.from('hello')));
    await expect(readTarballManifest(notTar)).rejects.toThrow(/refused/);
  });

  test('unpack writes files only, below the destination, without setuid or group/other write bits', async () => {
    const tarball = await craftTarball([
      manifest,
      { name: 'package/lib', type: 'directory' },
      { name: 'package/lib/index.js', data: 'module.exports = 1;\n', mode: 0o4777 },
      { name: 'package/README.md', data: '# hi\n', mode: 0o600 },
    ]);
    const dest = join(tempDir(), 'out');
    const listing = await unpackTarball(tarball, dest);
    expect(listing.files.map((f) => f.path).sort()).toEqual(['README.md', 'lib/index.js', 'package.json']);
    expect(readFileSync(join(dest, 'lib/index.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(statSync(join(dest, 'lib/index.js')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(dest, 'README.md')).mode & 0o7777).toBe(0o600);
    expect(listing.unpackedBytes).toBe(MANIFEST().length + 20 + 5);
  });
});
