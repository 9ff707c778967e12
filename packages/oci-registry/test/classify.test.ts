// Real skopeo 1.9.3 fatal lines (recorded against the distribution registry, and as the nobody user for the local
// permission errors); the GHCR, Docker Hub and ECR lines are the registries' own texts as users reported them.
import { classifyFailure, neutralLine } from '@golden-image/oci-registry';
import { describe, expect, test } from '@jest/globals';

const fatal = (msg: string) => `time="2026-11-30T06:39:42Z" level=fatal msg="${msg.replace(/"/g, '\\"')}"\n`;

const CASES: [string, string, RegExp | undefined][] = [
  [
    'copying image 1/2 from manifest list: trying to reuse blob sha256:71467c9a03c3e978a1d4805214b0adc104944daa0fd7fb6cbfdead45d635a49e at destination: checking whether a blob sha256:71467c9a03c3e978a1d4805214b0adc104944daa0fd7fb6cbfdead45d635a49e exists in localhost:5998/x401/denied: unauthorized: authentication required',
    'authentication refused',
    /log in to it first/,
  ],
  [
    'Error parsing image name "docker://localhost:5998/x/y:z": reading manifest z in localhost:5998/x/y: unauthorized: authentication required',
    'authentication refused',
    /docker\/login-action/,
  ],
  [
    'writing blob: initiating layer upload to /v2/o/app/blobs/uploads/ in ghcr.io: denied: permission_denied: write_package',
    'package write refused',
    /Manage Actions access/,
  ],
  [
    'writing blob: initiating layer upload to /v2/o/app/blobs/uploads/ in ghcr.io: denied: installation not allowed to Write organization package',
    'package write refused',
    /permissions: packages: write/,
  ],
  [
    'writing blob: initiating layer upload to /v2/o/app/blobs/uploads/ in registry-1.docker.io: denied: requested access to the resource is denied',
    'authentication refused',
    /log in/,
  ],
  [
    'pinging container registry r.example: invalid status code from registry 403 (Forbidden)',
    'authentication refused',
    /log in/,
  ],
  [
    'initializing source oci:/tmp/scratch/two:a: open /tmp/scratch/two/index.json: permission denied',
    'local permission denied',
    /chmod -R a\+rX/,
  ],
  [
    'determining manifest MIME type for oci:/tmp/denied/401:a: open /tmp/denied/401/blobs/sha256/8c7f4650615eb17288c5c56ec5fb9d15fd38c6521838fdf5a0cddefc6038c57a: permission denied',
    'local permission denied',
    /readable/,
  ],
  [
    'copying image 1/2 from manifest list: trying to reuse blob sha256:71467c9a03c3e978a1d4805214b0adc104944daa0fd7fb6cbfdead45d635a49e at destination: pinging container registry localhost:401: Get "http://localhost:401/v2/": dial tcp 127.0.0.1:401: connect: connection refused',
    'connection refused',
    undefined,
  ],
  [
    'reading manifest 401 in localhost:5000/denied/unauthorized: manifest unknown: manifest unknown',
    'not found',
    undefined,
  ],
  [
    "writing blob: initiating layer upload to /v2/app/blobs/uploads/ in 123456789012.dkr.ecr.eu-west-1.amazonaws.com: name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'",
    'not found',
    /create the repository first/,
  ],
  [
    // Amazon ECR's answer to a moved tag in an immutable repository, as docker and buildx users reported it
    // (aws/containers-roadmap#862, moby/buildkit#3776), after skopeo's prefix.
    "writing manifest: uploading manifest latest to 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app: tag invalid: The image tag 'latest' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.",
    'tag immutable',
    /MUTABLE_WITH_EXCLUSION with the filters sha-\* and v\*\.\*\.\*/,
  ],
  [
    "writing manifest: uploading manifest nightly to 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app: TAG_INVALID: The image tag 'nightly' already exists in the 'app' repository and cannot be overwritten because the tag is immutable.",
    'tag immutable',
    /IMMUTABLE_WITH_EXCLUSION with latest, nightly\* and sha256-\*/,
  ],
  [
    'reading manifest sha256:4010401040104010401040104010401040104010401040104010401040104010 in localhost:4010/denied-401/app: received unexpected HTTP status: 500 Internal Server Error',
    '500 Internal Server Error',
    undefined,
  ],
];

describe('classifyFailure reads what the registry or the machine said, not the names in the message', () => {
  test.each(CASES)('%s', (message, reason, hint) => {
    const failure = classifyFailure(fatal(message));
    expect(failure.reason).toBe(reason);
    if (hint) expect(failure.hint).toMatch(hint);
    else expect(failure.hint).toBeUndefined();
  });

  test('digests, ports, repositories, paths and tags are blanked before matching', () => {
    expect(
      neutralLine(
        fatal(
          'reading manifest denied in localhost:4010/denied/401: open /tmp/401/denied: sha256:401 docker://x/denied',
        ),
      ),
    ).toBe('reading manifest TAG in localhost:PATH: open PATH: DIGEST URL');
  });
});
