import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { show, UserError } from '@golden-image/kit';

/** What npm and the registry say about a tarball: `integrity` (SHA-512, SRI form) and `shasum` (SHA-1, hex). */
export interface TarballHash {
  integrity: string;
  shasum: string;
  /** The SHA-512 in hex: the digest a provenance statement names. */
  sha512Hex: string;
  size: number;
}

const SRI_SHA512 = /^sha512-([A-Za-z0-9+/]{86}==)$/;

/** Problem with an `integrity` value, or undefined: exactly one `sha512-` SRI hash of 64 bytes. */
export function integrityProblem(value: string): string | undefined {
  const match = SRI_SHA512.exec(value);
  if (!match || Buffer.from(match[1] as string, 'base64').length !== 64) {
    return `must be the tarball's SHA-512 in SRI form, "sha512-" and 88 base64 characters (the integrity output of pack-npm), got ${show(value)}`;
  }
  return undefined;
}

export function hashBytes(bytes: Buffer): TarballHash {
  const sha512 = createHash('sha512').update(bytes).digest();
  return {
    integrity: `sha512-${sha512.toString('base64')}`,
    shasum: createHash('sha1').update(bytes).digest('hex'),
    sha512Hex: sha512.toString('hex'),
    size: bytes.length,
  };
}

export async function hashFile(path: string): Promise<TarballHash> {
  const sha512 = createHash('sha512');
  const sha1 = createHash('sha1');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    sha512.update(chunk as Buffer);
    sha1.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const digest = sha512.digest();
  return {
    integrity: `sha512-${digest.toString('base64')}`,
    shasum: sha1.digest('hex'),
    sha512Hex: digest.toString('hex'),
    size,
  };
}

/**
 * Re-hashes the tarball before anything reads it, and refuses it when it is not the one the previous step handed
 * on. `input` names the input that carried the expected value.
 */
export async function verifyTarball(path: string, expected: string, input = 'integrity'): Promise<TarballHash> {
  let hash: TarballHash;
  try {
    hash = await hashFile(path);
  } catch (error) {
    throw new UserError(`Input "tarball-path": cannot read ${path}: ${(error as Error).message}`);
  }
  if (hash.integrity !== expected) {
    throw new UserError(
      `Input "${input}": the tarball ${path} hashes to ${hash.integrity}, not ${expected}. It changed after it was packed ` +
        '(or the wrong file was handed on); nothing was done with it.',
    );
  }
  return hash;
}
