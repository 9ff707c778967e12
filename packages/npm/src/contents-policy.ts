/** A file the contents policy refuses, and why. */
export interface ContentsFinding {
  path: string;
  rule: string;
}

/** Files that hold credentials far more often than not. `.env.example` and friends are templates, not secrets. */
export const DEFAULT_DENY: readonly { glob: string; why: string }[] = [
  { glob: '**/.env', why: 'environment file (.env)' },
  { glob: '**/.env.*', why: 'environment file (.env.*)' },
  { glob: '**/.npmrc', why: 'npm config (may hold a registry token)' },
  { glob: '**/.yarnrc.yml', why: 'yarn config (may hold a registry token)' },
  { glob: '**/.netrc', why: 'netrc credentials' },
  { glob: '**/.git-credentials', why: 'git credentials' },
  { glob: '**/*.pem', why: 'PEM key or certificate' },
  { glob: '**/*.key', why: 'private key' },
  { glob: '**/*.p12', why: 'PKCS#12 key store' },
  { glob: '**/*.pfx', why: 'PKCS#12 key store' },
  { glob: '**/*.jks', why: 'Java key store' },
  { glob: '**/*.kdbx', why: 'KeePass database' },
  { glob: '**/id_rsa', why: 'SSH private key' },
  { glob: '**/id_dsa', why: 'SSH private key' },
  { glob: '**/id_ecdsa', why: 'SSH private key' },
  { glob: '**/id_ed25519', why: 'SSH private key' },
  { glob: '**/.ssh/**', why: 'SSH directory' },
  { glob: '**/.aws/credentials', why: 'AWS credentials' },
  { glob: '**/.docker/config.json', why: 'Docker credentials' },
  { glob: '**/.git/**', why: 'git repository data' },
];

const patterns = new Map<string, RegExp>();

// `*` and `?` match within one path segment, `**` across segments; a `**` followed by a slash also matches no
// directory at all, so a glob of that form matches at the top of the package too.
export function pathGlob(glob: string, path: string): boolean {
  let pattern = patterns.get(glob);
  if (!pattern) {
    const source = glob
      .split(/(\*\*\/|\*\*|\*|\?)/)
      .map((part) => {
        if (part === '**/') return '(?:.*/)?';
        if (part === '**') return '.*';
        if (part === '*') return '[^/]*';
        if (part === '?') return '[^/]';
        return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    pattern = new RegExp(`^${source}$`);
    patterns.set(glob, pattern);
  }
  return pattern.test(path);
}

const TEMPLATE = /\.env\.(example|sample|template|dist|defaults)$/;

/**
 * Applies the default deny list, then the caller's `deny` globs, to every path in the tarball; `allow` globs
 * exempt reviewed paths from both. Paths are relative to `package/`.
 */
export function reviewContents(
  paths: readonly string[],
  deny: readonly string[],
  allow: readonly string[],
): ContentsFinding[] {
  const findings: ContentsFinding[] = [];
  for (const path of paths) {
    if (allow.some((glob) => pathGlob(glob, path))) continue;
    const builtIn = DEFAULT_DENY.find((rule) => pathGlob(rule.glob, path) && !TEMPLATE.test(path));
    if (builtIn) {
      findings.push({ path, rule: `${builtIn.why} [${builtIn.glob}]` });
      continue;
    }
    const named = deny.find((glob) => pathGlob(glob, path));
    if (named) findings.push({ path, rule: `deny input [${named}]` });
  }
  return findings;
}
