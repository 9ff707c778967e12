import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_LIMITS, readTarball, type TarballLimits, type TarballListing } from './tarball.js';

/**
 * Unpacks `package/` of a tarball into `dest` (a fresh, empty directory): files only, permissions cut to rwx for
 * the owner and rx for others, each file created exclusively so nothing already there is followed or replaced.
 */
export async function unpackTarball(
  tarball: string,
  dest: string,
  limits: TarballLimits = DEFAULT_LIMITS,
): Promise<TarballListing> {
  await mkdir(dest, { recursive: true });
  return readTarball(
    tarball,
    async (file) => {
      const target = join(dest, file.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.data, { flag: 'wx', mode: (file.mode & 0o755) | 0o600 });
    },
    limits,
  );
}
