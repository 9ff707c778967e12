import { bareTag, digestProblem, imageProblem, resolveTags, tagProblem } from '@golden-image/oci';
import { describe, expect, test } from '@jest/globals';

describe('imageProblem', () => {
  test.each([
    'ghcr.io/owner/app',
    'localhost:5000/app',
    'docker.io/library/alpine',
    'registry.example.com:443/a/b/c',
    '127.0.0.1:5000/x_y.z-w',
  ])('accepts %s', (image) => expect(imageProblem(image)).toBeUndefined());
  test.each([
    ['GHCR.io/owner/app', 'must be lowercase'],
    ['ghcr.io/owner/app:latest', 'must not carry a tag'],
    [`ghcr.io/owner/app@sha256:${'a'.repeat(64)}`, 'must not carry a digest'],
    ['alpine', 'must be registry/repository'],
    ['library/alpine', 'must start with a registry host'],
    ['ghcr.io/owner/аpp', 'ASCII'], // Cyrillic "а"
    ['ghcr.io/owner/app name', 'whitespace'],
    ['ghcr.io//app', 'must be registry/repository'],
    ['ghcr.io/owner/-app', 'must be registry/repository'],
  ])('refuses %s', (image, message) => expect(imageProblem(image)).toContain(message));
});

describe('tags', () => {
  test('bare tags and full references of the same image resolve to bare tags, deduplicated', () => {
    expect(resolveTags(['sha-1a2b3c4', 'ghcr.io/o/app:v1', 'sha-1a2b3c4'], 'ghcr.io/o/app')).toEqual([
      'sha-1a2b3c4',
      'v1',
    ]);
    expect(resolveTags(['localhost:5000/app:sha-1'], 'localhost:5000/app')).toEqual(['sha-1']);
  });
  test('a reference of another image is refused naming the input', () => {
    expect(() => resolveTags(['ghcr.io/other/app:v1'], 'ghcr.io/o/app')).toThrow(
      'Input "tags": "ghcr.io/other/app:v1" names another image',
    );
  });
  test('a tag with a space, over 128 characters, or starting with a dot is refused', () => {
    expect(tagProblem('my tag')).toContain('is not valid');
    expect(tagProblem('a'.repeat(129))).toContain('129 characters long; the limit is 128');
    expect(tagProblem('a'.repeat(128))).toBeUndefined();
    expect(tagProblem('.hidden')).toContain('is not valid');
    expect(bareTag('ghcr.io/o/app@sha256:abc', 'ghcr.io/o/app').problem).toContain('carries a digest');
    expect(bareTag('ghcr.io/o/app', 'ghcr.io/o/app').problem).toBe(
      '"ghcr.io/o/app" is the image with no tag: give image:tag or a bare tag',
    );
    expect(bareTag('ghcr.io/o/other', 'ghcr.io/o/app').problem).toContain('has no tag');
  });
  test('a branch name given as a tag is not a valid tag, and the refusal says how metadata-action writes it', () => {
    const expected =
      'tag "feature/login" is not valid: use letters, digits, "_", "." and "-", not starting with "." or "-"; ' +
      'a branch or other name becomes a tag the way docker/metadata-action (type=ref) writes it, every other character replaced by "-": "feature-login"';
    expect(bareTag('feature/login', 'ghcr.io/o/app').problem).toBe(expected);
    expect(bareTag('ghcr.io/o/app:feature/login', 'ghcr.io/o/app').problem).toBe(expected);
    expect(() => resolveTags(['feature/login'], 'ghcr.io/o/app')).toThrow(`Input "tags": ${expected}`);
    expect(tagProblem('release/1.x')).toContain('"release-1.x"');
    // nothing to suggest when nothing of the name is left, or when no "/" says it is a branch name
    expect(tagProblem('//')).not.toContain('metadata-action');
    expect(tagProblem('bad tag')).not.toContain('metadata-action');
  });
});

describe('digestProblem', () => {
  test('accepts sha256 with 64 lowercase hex characters only', () => {
    expect(digestProblem(`sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(digestProblem(`sha256:${'A'.repeat(64)}`)).toContain('lowercase');
    expect(digestProblem(`sha512:${'a'.repeat(128)}`)).toContain('must be a sha256 digest');
    expect(digestProblem(`sha256:${'a'.repeat(63)}`)).toContain('64 lowercase hex');
    expect(digestProblem('latest')).toContain('64 lowercase hex');
  });
});
