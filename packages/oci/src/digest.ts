import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { show } from '@golden-image/kit';

/** The only digest form the hand-off contract allows: sha256 and 64 lowercase hex characters. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

export function digestProblem(value: string): string | undefined {
  if (DIGEST_PATTERN.test(value)) return undefined;
  if (/^sha256:[a-fA-F0-9]{64}$/.test(value)) return `must use lowercase hex, got ${show(value)}`;
  if (/^sha(384|512):/.test(value))
    return `must be a sha256 digest (the contract uses sha256 only), got ${show(value)}`;
  return `must be "sha256:" followed by 64 lowercase hex characters (for example the digest output of build-oci), got ${show(value)}`;
}

export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Streams a file through SHA-256 (constant memory whatever the file size). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
