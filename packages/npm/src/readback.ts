import { UserError } from '@golden-image/kit';
import { compareInstallFacts, type InstallFacts, installFacts } from './install-facts.js';
import { hashBytes, type TarballHash } from './integrity.js';
import { type Attempt, type PollOptions, poll } from './poll.js';
import { describeAnswer, type HttpAnswer, type RegistryHttp, transientStatus } from './registry-http.js';

export interface Expected {
  name: string;
  version: string;
  hash: TarballHash;
  /** The install facts of the tarball's own package.json. */
  facts: InstallFacts;
  /** Paths inside the tarball (for bin directories and binding.gyp). */
  files: string[];
}

export interface Packument {
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, Record<string, unknown> & { dist?: Record<string, unknown> }>;
}

export interface ReadBack {
  tarballUrl: string;
  /** What the tag names now (the expected version unless another publish moved it). */
  tagged: string | undefined;
  versionDoc: Record<string, unknown>;
  retries: number;
}

function parseJson(answer: HttpAnswer, what: string): Packument {
  try {
    const value = JSON.parse(answer.body.toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Packument;
  } catch {
    // reported below
  }
  throw new UserError(`${what}: the registry answered 200 with a body that is not a JSON object.`);
}

/** One read of the packument: 200 parsed, 404 undefined, transient answers retried, anything else an error. */
export function packumentAttempt(answer: HttpAnswer, what: string): Attempt<Packument | undefined> {
  if (answer.status === 200) return { value: parseJson(answer, what) };
  if (answer.status === 404) return { value: undefined };
  if (transientStatus(answer.status)) return { retry: describeAnswer(answer) };
  const hint =
    answer.status === 401 || answer.status === 403 ? ' (check the token and its access to this package)' : '';
  throw new UserError(`${what}: the registry answered ${describeAnswer(answer)}${hint}.`);
}

/**
 * Reads a published version back until the registry serves it, then proves it is the tarball: `dist.integrity`
 * and `dist.shasum` equal to ours, the served tarball re-hashing to them, the version document saying what the
 * tarball's package.json says about installing it, and (with `waitForTag`) the dist-tag naming the version.
 */
export async function readBack(
  http: RegistryHttp,
  expected: Expected,
  options: PollOptions & { tag: string; waitForTag: boolean },
): Promise<ReadBack> {
  let retries = 0;
  const counted: PollOptions = {
    ...options,
    onRetry: (event) => {
      retries++;
      options.onRetry?.(event);
    },
  };
  const id = `${expected.name}@${expected.version}`;
  const url = http.packumentUrl(expected.name);
  const what = `Reading ${id} back from ${http.registry.href}`;
  const packument = await poll(
    what,
    async () => {
      const outcome = packumentAttempt(await http.get(url), what);
      if (!('value' in outcome)) return outcome;
      const doc = outcome.value;
      if (!doc) return { retry: 'the package is not found (HTTP 404)' };
      if (!doc.versions?.[expected.version]) return { retry: `version ${expected.version} is not listed yet` };
      const tagged = doc['dist-tags']?.[options.tag];
      if (options.waitForTag && tagged !== expected.version) {
        return { retry: `dist-tag ${options.tag} names ${tagged ?? 'nothing'}, not ${expected.version}` };
      }
      return { value: doc };
    },
    counted,
  );
  const versionDoc = packument.versions?.[expected.version] ?? {};
  const dist = versionDoc.dist ?? {};
  if (dist.integrity !== expected.hash.integrity || dist.shasum !== expected.hash.shasum) {
    throw new UserError(
      `The registry serves ${id} with integrity ${String(dist.integrity)} and shasum ${String(dist.shasum)}, but the tarball has ` +
        `${expected.hash.integrity} and ${expected.hash.shasum}: the registry does not hold these bytes under this version.`,
    );
  }
  const tarballUrl = typeof dist.tarball === 'string' ? dist.tarball : '';
  if (!/^https?:\/\//.test(tarballUrl))
    throw new UserError(`The registry serves ${id} with no usable dist.tarball URL.`);
  const served = await poll(
    `Downloading ${tarballUrl}`,
    async (): Promise<Attempt<Buffer>> => {
      const answer = await http.get(tarballUrl, 'application/octet-stream');
      if (answer.status === 200) return { value: answer.body };
      if (answer.status === 404 || transientStatus(answer.status)) return { retry: describeAnswer(answer) };
      throw new UserError(`Downloading ${tarballUrl}: the registry answered ${describeAnswer(answer)}.`);
    },
    counted,
  );
  const servedHash = hashBytes(served);
  if (servedHash.integrity !== expected.hash.integrity) {
    throw new UserError(
      `The tarball the registry serves for ${id} (${tarballUrl}) hashes to ${servedHash.integrity}, not ${expected.hash.integrity}: ` +
        'consumers would install other bytes than the ones published.',
    );
  }
  const differences = compareInstallFacts(expected.facts, installFacts(versionDoc, expected.files));
  if (differences.length > 0) {
    throw new UserError(
      `The registry's version document for ${id} disagrees with the tarball's package.json (npm installs from the document):\n- ${differences.join('\n- ')}`,
    );
  }
  return { tarballUrl, tagged: packument['dist-tags']?.[options.tag], versionDoc, retries };
}
