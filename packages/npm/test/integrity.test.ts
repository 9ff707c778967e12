import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { tempDir } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { hashFile, integrityProblem, verifyTarball } from '../src/index.js';

describe('integrity', () => {
  const file = join(tempDir(), 'x.tgz');
  writeFileSync(file, 'bytes');
  const sri = `sha512-${createHash('sha512').update('bytes').digest('base64')}`;

  test('hashFile gives the SRI SHA-512 and hex SHA-1 npm prints', async () => {
    const hash = await hashFile(file);
    expect(hash.integrity).toBe(sri);
    expect(hash.shasum).toBe(createHash('sha1').update('bytes').digest('hex'));
    expect(hash.size).toBe(5);
  });

  test('integrityProblem accepts exactly one sha512 SRI value', () => {
    expect(integrityProblem(sri)).toBeUndefined();
    for (const bad of [
      `sha1-${createHash('sha1').update('x').digest('base64')}`,
      `${sri} ${sri}`,
      sri.slice(0, -4),
      'sha512-AAAA',
    ]) {
      expect(integrityProblem(bad)).toMatch(/must be the tarball's SHA-512 in SRI form/);
    }
  });

  test('verifyTarball names the input when the file changed, and a missing file', async () => {
    await expect(verifyTarball(file, sri)).resolves.toMatchObject({ integrity: sri });
    const other = `sha512-${createHash('sha512').update('other').digest('base64')}`;
    const error = await verifyTarball(file, other).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^Input "integrity": the tarball .* hashes to sha512-.*, not sha512-/);
    await expect(verifyTarball(join(tempDir(), 'missing.tgz'), sri)).rejects.toThrow(
      /Input "tarball-path": cannot read/,
    );
  });
});
