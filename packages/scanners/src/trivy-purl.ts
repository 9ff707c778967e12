/** A package URL parsed as packageurl-go 0.1.6 parses it (the version Trivy 0.74 uses). */
export interface TrivyPurl {
  type: string;
  namespace: string;
  name: string;
  version: string;
  qualifiers: Map<string, string>;
  subpath: string;
}

/** Types whose namespace and name are case-insensitive (lower-cased on parsing), per the purl spec. */
const LOWER_NAMESPACE = new Set(['alpm', 'apk', 'bitbucket', 'composer', 'deb', 'github', 'golang', 'rpm', 'qpkg']);
const LOWER_NAME = new Set([
  'alpm',
  'apk',
  'bitbucket',
  'bitnami',
  'chrome-extension',
  'composer',
  'deb',
  'github',
  'golang',
]);

/** Parses `pkg:type/namespace/name@version?qualifiers#subpath`; throws an Error saying what is wrong. */
export function parseTrivyPurl(text: string): TrivyPurl {
  if (text.slice(0, 4).toLowerCase() !== 'pkg:') throw new Error('a package URL starts with "pkg:"');
  let rest = text.slice(4).replace(/^\/+/, '');
  let subpath = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    subpath = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let query = '';
  const question = rest.indexOf('?');
  if (question >= 0) {
    query = rest.slice(question + 1);
    rest = rest.slice(0, question);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw new Error('it has no type or no name');
  const type = rest.slice(0, slash).toLowerCase();
  if (!/^[a-z.+-][a-z0-9.+-]*$/.test(type)) throw new Error(`invalid type "${type}"`);
  rest = rest.slice(slash + 1);
  const qualifiers = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) throw new Error('a ";" separates no qualifiers');
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    if (!/^[a-z._-][a-z0-9._-]*$/.test(key)) throw new Error(`invalid qualifier key "${key}"`);
    const value = decode(eq < 0 ? '' : pair.slice(eq + 1), 'qualifier value');
    if (value === '') continue; // an empty value is the same as no qualifier
    if (qualifiers.has(key)) throw new Error(`duplicate qualifier key "${key}"`);
    qualifiers.set(key, value);
  }
  if (type !== 'npm' && rest.startsWith('@')) throw new Error('it has no name');
  let version = '';
  const at = rest.lastIndexOf('@');
  if (at > 0) {
    version = decode(rest.slice(at + 1), 'version');
    rest = rest.slice(0, at);
  }
  const lastSlash = rest.lastIndexOf('/');
  let name = decode(rest.slice(lastSlash + 1), 'name');
  let namespace = rest
    .slice(0, Math.max(lastSlash, 0))
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => decode(segment, 'namespace'))
    .join('/');
  if (name === '') throw new Error('it has no name');
  if (LOWER_NAMESPACE.has(type)) namespace = namespace.toLowerCase();
  if (LOWER_NAME.has(type)) name = name.toLowerCase();
  if (type === 'pypi') name = name.replaceAll('_', '-').toLowerCase();
  const trimmedSubpath = subpath.replace(/^\/+|\/+$/g, '');
  if (subpath.split('/').some((segment, i) => i > 0 && (segment === '.' || segment === '..')))
    throw new Error(`invalid subpath "${subpath}"`);
  return { type, namespace, name, version, qualifiers, subpath: trimmedSubpath };
}

/**
 * Trivy's rule for an ignore entry's PURL against a finding's package: type, namespace and name equal; version and
 * subpath equal when the entry gives them; every qualifier of the entry present in the package with the same value.
 */
export function trivyPurlMatch(entry: TrivyPurl, target: TrivyPurl): boolean {
  if (entry.type !== target.type || entry.namespace !== target.namespace || entry.name !== target.name) return false;
  if (entry.version !== '' && entry.version !== target.version) return false;
  if (entry.subpath !== '' && entry.subpath !== target.subpath) return false;
  for (const [key, value] of entry.qualifiers) if (target.qualifiers.get(key) !== value) return false;
  return true;
}

function decode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new Error(`the ${what} "${value}" is not percent-encoded correctly`);
  }
}
