import { pullAdvice, syntaxDirective } from '@golden-image/image-build';
import { describe, expect, test } from '@jest/globals';

// The last lines of buildx 0.38.2 against BuildKit 0.34.2 with no network (actions/build-oci/test/buildkit.real.test.ts).
const offline = (image: string, path: string) =>
  `ERROR: failed to build: failed to solve: failed to resolve source metadata for ${image}: failed to do request: Head "https://registry-1.docker.io/v2/${path}": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host`;

describe('pullAdvice: an image BuildKit could not fetch, named for what it is', () => {
  test('the SBOM scanner image', () => {
    const advice = pullAdvice(
      offline('docker.io/docker/buildkit-syft-scanner:stable-1', 'docker/buildkit-syft-scanner/manifests/stable-1'),
      'FROM scratch\n',
    );
    expect(advice).toBe(
      " The SBOM attestation runs BuildKit's scanner image docker.io/docker/buildkit-syft-scanner:stable-1, which the builder could not pull (the builder cannot reach that registry). " +
        'Give the builder access to that registry (or a mirror of it), name a scanner image it can reach with sbom: generator=<image>, or set sbom: false.',
    );
  });

  test('the frontend a # syntax= line names', () => {
    const advice = pullAdvice(
      offline('docker.io/docker/dockerfile:1', 'docker/dockerfile/manifests/1'),
      '# syntax=docker/dockerfile:1\nFROM scratch\n',
    );
    expect(advice).toMatch(
      /^ The Dockerfile's "# syntax=docker\/dockerfile:1" line makes BuildKit pull that frontend image \(docker.io\/docker\/dockerfile:1\), which the builder could not pull \(the builder cannot reach that registry\)\. Remove the line/,
    );
  });

  test('a base image', () => {
    const advice = pullAdvice(
      offline('docker.io/library/alpine:3.20', 'library/alpine/manifests/3.20'),
      'FROM alpine:3.20\n',
    );
    expect(advice).toMatch(
      /^ The builder could not pull docker.io\/library\/alpine:3.20 \(the builder cannot reach that registry\): check/,
    );
  });

  test('anything else: no advice', () => {
    expect(
      pullAdvice(
        'ERROR: failed to build: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1',
        '',
      ),
    ).toBeUndefined();
  });
});

describe('syntaxDirective', () => {
  test.each([
    ['# syntax=docker/dockerfile:1\nFROM scratch', 'docker/dockerfile:1'],
    ['# escape=`\n#syntax = example.com/frontend:2\nFROM scratch', 'example.com/frontend:2'],
    ['FROM scratch\n# syntax=docker/dockerfile:1', undefined],
    ['# a comment\n# syntax=docker/dockerfile:1', undefined],
    ['\n# syntax=docker/dockerfile:1', undefined],
  ])('%j', (dockerfile, expected) => {
    expect(syntaxDirective(dockerfile)).toBe(expected);
  });
});
