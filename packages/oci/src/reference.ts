import { show } from '@golden-image/kit';
import { digestProblem } from './digest.js';

// Grammar of github.com/distribution/reference, lowercase only and ASCII only (so look-alike letters fail).
const HOST_COMPONENT = '(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])';
const HOST = `(?:${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*|\\[[a-f0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_PATTERN = new RegExp(`^(${HOST})/(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)$`);
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_IMAGE_LENGTH = 255;

/**
 * `registry/repository`, lowercase, with no tag and no digest. The first component must be a registry host
 * (it has a dot or a port, or is localhost): `ghcr.io/owner/app`, `localhost:5000/app`, `docker.io/library/app`.
 */
export function imageProblem(value: string): string | undefined {
  const example = 'for example ghcr.io/owner/app';
  if (/\s/.test(value)) return `must not contain whitespace, got ${show(value)}`;
  if (value.includes('@')) return `must not carry a digest (give it in the "digest" input), got ${show(value)}`;
  if (value.length > MAX_IMAGE_LENGTH) return `must be at most ${MAX_IMAGE_LENGTH} characters, got ${value.length}`;
  if (/[^\x21-\x7e]/.test(value))
    return `must use ASCII letters only (look-alike characters are refused), got ${show(value)}`;
  if (value !== value.toLowerCase()) return `must be lowercase, got ${show(value)}; use ${show(value.toLowerCase())}`;
  const lastSlash = value.lastIndexOf('/');
  if (value.slice(lastSlash + 1).includes(':'))
    return `must not carry a tag (registry/repository only; tags are given apart), got ${show(value)}`;
  const match = IMAGE_PATTERN.exec(value);
  if (!match) return `must be registry/repository (${example}), got ${show(value)}`;
  const host = match[1] ?? '';
  if (!host.includes('.') && !host.includes(':') && host !== 'localhost') {
    return `must start with a registry host (${example}; Docker Hub is docker.io/...), got ${show(value)}`;
  }
  return undefined;
}

/**
 * A tag as docker/metadata-action writes one from a branch or other name: every run of characters a tag cannot hold
 * becomes "-" (its sanitizeTag), so the branch feature/login is tagged feature-login.
 */
export function sanitizedTag(value: string): string {
  return value.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

export function tagProblem(value: string): string | undefined {
  if (value.length > 128) return `tag ${show(value)} is ${value.length} characters long; the limit is 128`;
  if (!TAG_PATTERN.test(value)) {
    const rule = `tag ${show(value)} is not valid: use letters, digits, "_", "." and "-", not starting with "." or "-"`;
    // A branch name (feature/login) is the usual way to get here: say how metadata-action writes it as a tag.
    const sanitized = sanitizedTag(value).replace(/^[.-]+/, '');
    if (value.includes('/') && sanitized !== '' && TAG_PATTERN.test(sanitized))
      return `${rule}; a branch or other name becomes a tag the way docker/metadata-action (type=ref) writes it, every other character replaced by "-": ${show(sanitized)}`;
    return rule;
  }
  return undefined;
}

export function registryOf(image: string): string {
  return image.slice(0, image.indexOf('/'));
}

/**
 * Turns an entry of a "tags" input into a bare tag. Accepts a bare tag (`sha-1a2b3c4`) or a full reference
 * of the same image (`ghcr.io/owner/app:sha-1a2b3c4`, as docker/metadata-action writes them).
 */
export function bareTag(entry: string, image: string): { tag?: string; problem?: string } {
  const lastSlash = entry.lastIndexOf('/');
  const colon = entry.indexOf(':', lastSlash + 1);
  if (lastSlash === -1 && !entry.includes('@')) {
    const problem = tagProblem(entry);
    return problem ? { problem } : { tag: entry };
  }
  if (entry.includes('@')) return { problem: `${show(entry)} carries a digest; give a tag` };
  // A reference of the image whose tag holds a "/" (ghcr.io/o/app:feature/login): the tag is what is wrong.
  if (image !== '' && entry.startsWith(`${image}:`)) return bareTag(entry.slice(image.length + 1), image);
  if (colon === -1) {
    if (entry === image) return { problem: `${show(entry)} is the image with no tag: give image:tag or a bare tag` };
    // No registry host first: a bare name with "/" (a branch such as feature/login), not an image reference.
    const first = entry.slice(0, entry.indexOf('/'));
    if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return { problem: tagProblem(entry) };
    return { problem: `${show(entry)} has no tag: give image:tag, with the image of the "image" input, or a bare tag` };
  }
  const repository = entry.slice(0, colon);
  if (repository !== image) {
    return { problem: `${show(entry)} names another image than ${show(image)}; tags must belong to the "image" input` };
  }
  return bareTag(entry.slice(colon + 1), image);
}

export function digestRef(image: string, digest: string): string {
  return `${image}@${digest}`;
}

export function tagRef(image: string, tag: string): string {
  return `${image}:${tag}`;
}

export { digestProblem };
