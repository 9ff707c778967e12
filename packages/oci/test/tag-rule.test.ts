import { isImmutableTag, releaseTags, splitTags, tagsForImages } from '@golden-image/oci';
import { describe, expect, test } from '@jest/globals';

describe('the tag rule: immutable only when a tag names one build for good', () => {
  test.each([
    'sha-1a2b3c4',
    'sha-0123456789abcdef0123456789abcdef01234567',
    '1.2.3',
    'v1.2.3',
    '1.2.3-rc.1',
    'v0.0.1-alpha',
  ])('%s is immutable', (tag) => expect(isImmutableTag(tag)).toBe(true));

  test.each([
    'latest',
    'main',
    'pr-12',
    '1.2',
    '1',
    'v1',
    'edge',
    'nightly-20261130',
    'sha-abc',
    'sha-1A2B3C4',
    'sha-1a2b3c4-arm64',
    '01.2.3',
    '1.2.3.4',
    'feature-1.2.3',
  ])('%s is rolling', (tag) => expect(isImmutableTag(tag)).toBe(false));

  test('splitTags keeps the order of each half', () => {
    expect(splitTags(['main', 'sha-1a2b3c4', 'latest', 'v2.0.0'])).toEqual({
      immutable: ['sha-1a2b3c4', 'v2.0.0'],
      rolling: ['main', 'latest'],
    });
  });
});

describe('tags for several images', () => {
  const images = ['ghcr.io/o/app', 'docker.io/o/app'];
  test("metadata-action's full references, bare tags for every image", () => {
    expect(
      tagsForImages(
        ['ghcr.io/o/app:main', 'docker.io/o/app:main', 'ghcr.io/o/app:v1.0.0', 'docker.io/o/app:v1.0.0', 'edge'],
        images,
      ),
    ).toEqual(['main', 'v1.0.0', 'edge']);
  });
  test('every image must end with the same tags; another image is refused', () => {
    expect(() => tagsForImages(['ghcr.io/o/app:main'], images)).toThrow(
      'Input "tags": every image must get the same tags, but docker.io/o/app lacks main',
    );
    expect(() => tagsForImages(['quay.io/o/app:main'], images)).toThrow('names another image');
  });
});

describe('releaseTags', () => {
  const env = { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_EVENT_NAME: 'push' };
  const now = new Date('2026-11-30T12:00:00Z');
  test('nothing given: sha-<short commit>, and latest', () => {
    expect(releaseTags({ tags: [], rollingTags: [] }, ['ghcr.io/o/app'], env, now)).toEqual({
      immutable: ['sha-0123456'],
      rolling: ['latest'],
    });
  });
  test('on a schedule: nightly and the dated nightly as well', () => {
    expect(
      releaseTags({ tags: [], rollingTags: [] }, ['ghcr.io/o/app'], { ...env, GITHUB_EVENT_NAME: 'schedule' }, now)
        .rolling,
    ).toEqual(['latest', 'nightly', 'nightly-20261130']);
  });
  test('tags without an immutable one get the commit tag; no default rolling tags when tags are given', () => {
    expect(releaseTags({ tags: ['main'], rollingTags: [] }, ['ghcr.io/o/app'], env, now)).toEqual({
      immutable: ['sha-0123456'],
      rolling: ['main'],
    });
  });
  test('without a commit and without an immutable tag: refused, naming the input', () => {
    expect(() => releaseTags({ tags: ['main'], rollingTags: [] }, ['ghcr.io/o/app'], {}, now)).toThrow(
      'Input "tags": holds no immutable tag',
    );
  });
});
