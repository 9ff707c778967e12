/**
 * npm applies ANY config key found in a package's `publishConfig` to the publish (npm's publish.js: "for historical
 * reasons, publishConfig in package.json can contain ANY config keys"), except the keys given on the command line.
 * publish-npm passes registry, the scope's registry, tag, access and provenance explicitly, so those in the
 * tarball are overridden; the fields other package managers read from publishConfig are not npm config and do
 * nothing; any other key (proxy, strict-ssl, ca, dry-run, otp, a `//host/:_authToken`...) would change how or
 * where npm publishes, so the tarball is refused.
 */
const OVERRIDDEN = new Set(['tag', 'access', 'registry', 'provenance']);
const NOT_NPM_CONFIG = new Set([
  'main',
  'module',
  'types',
  'typings',
  'typesVersions',
  'exports',
  'imports',
  'bin',
  'browser',
  'directory',
  'linkDirectory',
  'executableFiles',
  'unpkg',
  'jsdelivr',
  'esnext',
  'es2015',
  'umd:main',
]);

export interface PublishConfigReview {
  /** Keys publish-npm's explicit flags override, with the tarball's values. */
  overridden: Record<string, unknown>;
  refused: string[];
}

export function reviewPublishConfig(manifest: Record<string, unknown>): PublishConfigReview {
  const config = manifest.publishConfig;
  const review: PublishConfigReview = { overridden: {}, refused: [] };
  if (!config || typeof config !== 'object' || Array.isArray(config)) return review;
  for (const [key, value] of Object.entries(config)) {
    if (OVERRIDDEN.has(key) || /^@[^/]+:registry$/.test(key)) review.overridden[key] = value;
    else if (!NOT_NPM_CONFIG.has(key)) review.refused.push(key);
  }
  return review;
}
