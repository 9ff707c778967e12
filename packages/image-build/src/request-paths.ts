// The paths a build request names (context, Dockerfile, secret files, ssh sockets, local build contexts): resolved
// against the workspace the step runs in, and checked before anything is built.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inputProblem, show, UserError } from '@golden-image/kit';
import { parseSecret } from './validate.js';

/** A file a secret is read from, and the input that named it. */
export interface SecretFile {
  input: 'secrets' | 'secret-files';
  id: string;
  src: string;
}

/** Problems with paths the inputs name, found before anything is built. */
export function pathProblems(
  context: string,
  file: string | undefined,
  secrets: SecretFile[],
  localContexts: [string, string][],
  builder: string,
): string[] {
  const problems: string[] = [];
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    problems.push(
      inputProblem('context', `${show(context)} is not a directory; give the build context, for example . or ./app`),
    );
    return problems;
  }
  if (file !== undefined) {
    if (!existsSync(file) || !statSync(file).isFile())
      problems.push(inputProblem('file', `${show(file)} does not exist or is not a file`));
  } else {
    const names = builder === 'buildah' ? ['Containerfile', 'Dockerfile'] : ['Dockerfile'];
    if (!names.some((name) => existsSync(join(context, name)))) {
      problems.push(
        inputProblem(
          'file',
          `is unset and ${show(context)} holds no ${names.join(' or ')}; give the Dockerfile's path`,
        ),
      );
    }
  }
  for (const secret of secrets) {
    if (!existsSync(secret.src) || !statSync(secret.src).isFile())
      problems.push(
        inputProblem(
          secret.input,
          `secret ${show(secret.id)}: the file ${show(secret.src)} does not exist or is not a file`,
        ),
      );
  }
  for (const [entry, path] of localContexts) {
    if (!existsSync(path) || !statSync(path).isDirectory())
      problems.push(inputProblem('build-contexts', `${show(entry)}: ${show(path)} is not a directory`));
  }
  return problems;
}

/** A local path in an ssh or build-context entry, resolved against the workspace. */
export function absoluteAfterEquals(entry: string, workspace: string, local: (value: string) => boolean): string {
  const eq = entry.indexOf('=');
  if (eq === -1) return entry;
  const value = entry.slice(eq + 1);
  if (!local(value)) return entry;
  return `${entry.slice(0, eq)}=${value
    .split(',')
    .map((path) => resolve(workspace, path))
    .join(',')}`;
}

/** A file secret's src resolved against the workspace, so it does not depend on the tool's working directory. */
export function absoluteSecret(entry: string, workspace: string): string {
  const secret = parseSecret(entry);
  return secret.src ? `id=${secret.id},src=${resolve(workspace, secret.src)}` : entry;
}

/** SOURCE_DATE_EPOCH of the job (reproducible timestamps), checked. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw))
    throw new UserError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${show(raw)}.`);
  return Number(raw);
}
