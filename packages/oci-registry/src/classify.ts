/**
 * What a skopeo failure means: worth retrying or not, a short reason, and advice for the job log.
 *
 * Only skopeo's `level=fatal` line is read, after every reference, path, URL, digest and host:port in it is blanked
 * out, so a "401" inside a digest or a port, or a repository called `denied`, cannot pass for a registry's answer.
 * Registry errors are recognised by their shapes in containers/image: an error code printed as `code: message`
 * (`unauthorized: authentication required`, `denied: requested access to the resource is denied`), or a status
 * with its text (`401 (Unauthorized)`, `403 Forbidden`). A local `open PATH: permission denied` is not a registry's
 * refusal and gets its own advice.
 */

export interface Failure {
  transient: boolean;
  /** A short name of the error, for the retry log line. */
  reason: string;
  retryAfterMs?: number;
  /** What to do about it, for the error message; absent when there is nothing useful to say. */
  hint?: string;
}

/** The line that says why skopeo failed (its `level=fatal` message), or the last non-empty line. */
export function fatalLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  const fatal = lines.filter((line) => /level=fatal/.test(line)).at(-1) ?? lines.at(-1) ?? '';
  const message = /msg="((?:[^"\\]|\\.)*)"/.exec(fatal)?.[1];
  return (message ?? fatal).replace(/\\"/g, '"').trim();
}

/** The fatal line with everything that is a name or a number of the caller's blanked out. */
export function neutralLine(stderr: string): string {
  return fatalLine(stderr)
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, 'URL')
    .replace(/sha256:[0-9a-f]+/gi, 'DIGEST')
    .replace(/[^\s:"]*\/[^\s:"]*/g, 'PATH')
    .replace(/[\w.-]+:\d+/g, 'HOST')
    .replace(/manifest \S+ in /g, 'manifest TAG in ');
}

/**
 * skopeo 1.9.3 hides why an index upload failed: after any failed PUT of the index it tries to convert it to a
 * Docker manifest list, which --preserve-digests forbids, and prints only that. Measured: a 500/502/503 or a drop
 * on the index PUT ends like this, so it is retried (bounded). An index skopeo cannot write unchanged (OCI 1.1
 * fields its image-spec does not know) fails the same way every time: push-layout refuses those before pushing.
 */
const HIDDEN_INDEX_FAILURE = /Manifest list must be converted to type .* but we cannot modify it/;

const LOGIN_HINT =
  'The registry refused the credentials, or had none for this image: log in to it first (docker/login-action) or set the "username" and "password" inputs.';

const PERMANENT: [RegExp, string, string | undefined][] = [
  [
    /\bdenied: permission_denied: write_package\b/,
    'package write refused',
    'ghcr.io refused the write: the package exists but does not let this repository write to it. In the package settings on GitHub (Package settings > Manage Actions access), add this repository with the Write role; the job also needs permissions: packages: write.',
  ],
  [
    /\binstallation not allowed to (?:Write|Create) organization package\b/,
    'package write refused',
    "ghcr.io refused the write: the job's GITHUB_TOKEN may not write packages. Give the job permissions: packages: write.",
  ],
  [
    /(?:^|: )(?:unauthorized|denied): |\b(?:401|403)\s*\(?(?:Unauthorized|Forbidden)\b|authentication required|requested access to the resource is denied|incorrect username or password/i,
    'authentication refused',
    LOGIN_HINT,
  ],
  [
    /: permission denied\b/i,
    'local permission denied',
    'skopeo could not read or write a local file (it runs as the same user as this step): make the layout readable by that user, for example chmod -R a+rX on the layout directory.',
  ],
  [
    /cannot be overwritten because the (?:repository|tag) is immutable/,
    'tag immutable',
    "Amazon ECR's tag immutability refused to move a tag that already exists (IMMUTABLE refuses every rewrite, even of the same digest). " +
      'Keep immutability for the names that never move and let the rolling ones move: set the repository to MUTABLE_WITH_EXCLUSION ' +
      'with the filters sha-* and v*.*.* (and *.*.* for bare versions), or to IMMUTABLE_WITH_EXCLUSION with latest, nightly* and ' +
      "sha256-* (cosign's signature and attestation tags) excluded. See docs/troubleshooting.md.",
  ],
  [
    /does not exist in the registry with id/,
    'not found',
    'Amazon ECR does not create repositories on push: create the repository first (aws ecr create-repository).',
  ],
  [/(?:^|: )(?:manifest unknown|name unknown|blob unknown): |\bnot found\b|\b404\b/i, 'not found', undefined],
  [
    /digest did not match|does not match|mismatch|DIGEST_INVALID|MANIFEST_INVALID|preserv\w* digests?/i,
    'digest mismatch',
    undefined,
  ],
  [
    /server gave HTTP response to HTTPS client/i,
    'TLS setup',
    'The registry speaks plain HTTP: set "tls-verify: false" for a local test registry.',
  ],
  [
    /x509|certificate/i,
    'TLS setup',
    'The registry\'s TLS certificate is not trusted: install its CA on the runner, or set "tls-verify: false" for a test registry.',
  ],
];

const TRANSIENT: [RegExp, string][] = [
  [/\b429\b|too many requests|TOOMANYREQUESTS/i, '429 Too Many Requests'],
  [/\b500\b|Internal Server Error/i, '500 Internal Server Error'],
  [/\b502\b|Bad Gateway/i, '502 Bad Gateway'],
  [/\b503\b|Service Unavailable/i, '503 Service Unavailable'],
  [/\b504\b|Gateway Time-?out/i, '504 Gateway Timeout'],
  [/connection reset|broken pipe/i, 'connection reset'],
  [/connection refused/i, 'connection refused'],
  [/\bEOF\b/, 'connection dropped (EOF)'],
  [/timeout|timed out|deadline exceeded/i, 'timeout'],
  [/no route to host|network is unreachable|temporary failure in name resolution|server misbehaving/i, 'network'],
];

/** Decides from skopeo's stderr whether a failure is worth retrying, and what to advise. Unknown ones are not retried. */
export function classifyFailure(stderr: string): Failure {
  const line = neutralLine(stderr);
  if (HIDDEN_INDEX_FAILURE.test(fatalLine(stderr)))
    return { transient: true, reason: 'index upload failed (cause hidden by skopeo)' };
  for (const [pattern, reason, hint] of PERMANENT)
    if (pattern.test(line)) return hint ? { transient: false, reason, hint } : { transient: false, reason };
  for (const [pattern, reason] of TRANSIENT) {
    if (!pattern.test(line)) continue;
    const seconds = /retry[- ]after:?\s*(\d+)/i.exec(stderr)?.[1];
    // skopeo does not print Retry-After; a 429 that reaches us already outlasted its own waits: wait at least 1 s.
    const retryAfterMs = seconds ? Number(seconds) * 1000 : reason.startsWith('429') ? 1000 : undefined;
    return { transient: true, reason, retryAfterMs };
  }
  return { transient: false, reason: 'error' };
}

/** A failure's advice as the tail of an error message: a new line and the hint, or nothing. */
export function hintFor(failure: Failure): string {
  return failure.hint ? `\n${failure.hint}` : '';
}
