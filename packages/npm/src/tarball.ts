import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '@golden-image/kit';
import tar from 'tar-stream';

export interface TarballLimits {
  /** Entries (files and directories) at most. */
  maxEntries: number;
  /** Sum of the file sizes at most. */
  maxUnpackedBytes: number;
}

export const DEFAULT_LIMITS: TarballLimits = { maxEntries: 20_000, maxUnpackedBytes: 512 * 1024 * 1024 };

export interface TarballFile {
  /** Path below `package/`, with `/` separators. */
  path: string;
  size: number;
  /** Permission bits from the header. */
  mode: number;
  data: Buffer;
}

export interface TarballListing {
  files: { path: string; size: number; mode: number }[];
  unpackedBytes: number;
}

/** A tarball that cannot be read safely: reported, never worked around. */
export function refused(tarball: string, why: string): UserError {
  return new UserError(`The tarball ${tarball} is refused: ${why}.`);
}

/** Every problem with one entry name, or undefined: only plain relative paths below `package/`. */
export function entryNameProblem(name: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a path are the problem
  if (/[\u0000-\u001f\u007f]/.test(name)) return `entry ${JSON.stringify(name)} has a control character in its name`;
  if (name.includes('\\')) return `entry ${JSON.stringify(name)} has a backslash in its name`;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return `entry ${JSON.stringify(name)} is an absolute path`;
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) return `entry ${JSON.stringify(name)} climbs out of the package with ".."`;
  if (parts[0] !== 'package')
    return `entry ${JSON.stringify(name)} is outside package/ (npm pack puts everything there)`;
  return undefined;
}

/**
 * Reads an npm tarball entry by entry, refusing anything npm pack would never write and an installer might
 * follow: names outside `package/`, `..`, absolute paths, links and devices, duplicates, and archives over the
 * limits (counted on the decompressed stream, so a gzip bomb stops early). `onFile` gets every regular file.
 */
export async function readTarball(
  tarball: string,
  onFile: (file: TarballFile) => void | Promise<void>,
  limits: TarballLimits = DEFAULT_LIMITS,
): Promise<TarballListing> {
  const files: TarballListing['files'] = [];
  const seen = new Set<string>();
  let unpackedBytes = 0;
  let entries = 0;
  // Headers are 512 bytes, plus padding and pax records: generous, but bounded.
  const maxStream = limits.maxUnpackedBytes + (limits.maxEntries + 16) * 4096;
  let streamed = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      streamed += chunk.length;
      if (streamed > maxStream) done(refused(tarball, `it decompresses to more than ${maxStream} bytes`));
      else done(null, chunk);
    },
  });
  const extract = tar.extract();
  const piping = pipeline(createReadStream(tarball), createGunzip(), limiter, extract);
  piping.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      entries++;
      if (entries > limits.maxEntries) throw refused(tarball, `it has more than ${limits.maxEntries} entries`);
      const problem = entryNameProblem(header.name);
      if (problem) throw refused(tarball, problem);
      const path = header.name
        .split('/')
        .filter((part) => part !== '' && part !== '.')
        .slice(1)
        .join('/');
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        const target = header.linkname ? ` -> ${JSON.stringify(header.linkname)}` : '';
        throw refused(
          tarball,
          `entry ${JSON.stringify(header.name)} is a ${header.type}${target}; only files are allowed`,
        );
      }
      if (path === '') throw refused(tarball, `entry ${JSON.stringify(header.name)} is a file named package/`);
      if (seen.has(path)) throw refused(tarball, `entry ${JSON.stringify(header.name)} appears twice`);
      seen.add(path);
      const size = header.size ?? 0;
      unpackedBytes += size;
      if (unpackedBytes > limits.maxUnpackedBytes) {
        throw refused(tarball, `its files add up to more than ${limits.maxUnpackedBytes} bytes`);
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const mode = (header.mode ?? 0o644) & 0o777;
      files.push({ path, size, mode });
      await onFile({ path, size, mode, data: Buffer.concat(chunks) });
    }
    await piping;
  } catch (error) {
    extract.destroy();
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') throw new UserError(`Cannot read the tarball ${tarball}: ${code}.`);
    throw refused(tarball, `it is not a gzip-compressed tar archive (${(error as Error).message})`);
  }
  if (!seen.has('package.json')) throw refused(tarball, 'it has no package/package.json');
  return { files, unpackedBytes };
}

/** The files of a tarball whose paths `want` accepts, read into memory (package.json, shrinkwrap). */
export async function readTarballFiles(
  tarball: string,
  want: (path: string) => boolean,
  limits?: TarballLimits,
): Promise<{ listing: TarballListing; contents: Map<string, Buffer> }> {
  const contents = new Map<string, Buffer>();
  const listing = await readTarball(
    tarball,
    (file) => {
      if (want(file.path)) contents.set(file.path, file.data);
    },
    limits,
  );
  return { listing, contents };
}

/** The tarball's own package.json, parsed, with its file listing. */
export async function readTarballManifest(
  tarball: string,
  limits?: TarballLimits,
): Promise<{ manifest: Record<string, unknown>; listing: TarballListing; contents: Map<string, Buffer> }> {
  const { listing, contents } = await readTarballFiles(
    tarball,
    (path) => path === 'package.json' || path === 'npm-shrinkwrap.json',
    limits,
  );
  let manifest: unknown;
  try {
    manifest = JSON.parse((contents.get('package.json') as Buffer).toString('utf8'));
  } catch (error) {
    throw refused(tarball, `its package.json is not valid JSON (${(error as Error).message})`);
  }
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw refused(tarball, 'its package.json is not a JSON object');
  }
  return { manifest: manifest as Record<string, unknown>, listing, contents };
}
