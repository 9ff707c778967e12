import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { inputProblem, UserError } from '@golden-image/kit';

/**
 * The ignore files to apply: those named in the input (each must exist), or by default `.trivyignore` and
 * `.trivyignore.yaml` in `baseDir` when present.
 */
export function resolveIgnoreFiles(named: readonly string[], baseDir: string, input = 'trivyignores'): string[] {
  if (named.length === 0)
    return ['.trivyignore', '.trivyignore.yaml'].map((name) => join(baseDir, name)).filter((path) => existsSync(path));
  return named.map((name) => {
    const path = isAbsolute(name) ? name : resolve(baseDir, name);
    if (!existsSync(path))
      throw new UserError(
        inputProblem(input, `the ignore file ${JSON.stringify(name)} does not exist (looked for ${path})`),
      );
    return path;
  });
}
