import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  annotationProblem,
  attestOn,
  attestProblem,
  type BuildRequest,
  type BuildResult,
  buildArgProblem,
  buildahProblems,
  buildOrigin,
  buildSummary,
  buildWithBuildah,
  buildWithBuildx,
  cacheProblem,
  controlProblem,
  defaultCache,
  defaultCacheScope,
  labelProblem,
  originAnnotations,
  parseSecret,
  platformProblem,
  prepareLayoutDir,
  secretProblem,
  targetProblem,
  uniquePlatforms,
} from '@golden-image/image-build';
import {
  type ActionContext,
  enumInput,
  inputProblem,
  listInput,
  optionalCheckedString,
  parseInputs,
  show,
  UserError,
} from '@golden-image/kit';
import { z } from 'zod';

/** A free string with a default, refusing control characters. */
function stringWithDefault(defaultValue: string, check: (value: string) => string | undefined = controlProblem) {
  return z.string().transform((raw, ctx) => {
    const value = raw === '' ? defaultValue : raw;
    const problem = check(value);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return value;
  });
}

/** cache-from / cache-to: newline-separated specs, or the single word `none` for no cache. */
function cacheInput() {
  return listInput({ lines: true, check: (entry) => (entry === 'none' ? undefined : cacheProblem(entry)) }).transform(
    (entries, ctx) => {
      if (entries.includes('none')) {
        if (entries.length > 1)
          ctx.addIssue({
            code: 'custom',
            message: '"none" turns the cache off and cannot be combined with cache specs',
          });
        return [] as string[];
      }
      return entries.length > 0 ? entries : undefined;
    },
  );
}

export const inputs = {
  context: stringWithDefault('.'),
  file: optionalCheckedString(controlProblem),
  platforms: listInput({ check: platformProblem, defaultValue: ['linux/amd64'] }),
  'build-args': listInput({ lines: true, check: buildArgProblem }),
  secrets: listInput({ lines: true, check: secretProblem }),
  labels: listInput({ lines: true, check: labelProblem }),
  annotations: listInput({ lines: true, check: annotationProblem }),
  target: optionalCheckedString(targetProblem),
  'cache-from': cacheInput(),
  'cache-to': cacheInput(),
  provenance: stringWithDefault('mode=max', attestProblem),
  sbom: stringWithDefault('true', attestProblem),
  builder: enumInput(['buildx', 'buildah'] as const, 'buildx'),
  'layout-path': optionalCheckedString(controlProblem),
};

/** Problems with paths the inputs name, found before anything is built. */
function pathProblems(context: string, file: string | undefined, secrets: string[], builder: string): string[] {
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
  for (const entry of secrets) {
    const secret = parseSecret(entry);
    if (secret.src && !existsSync(secret.src))
      problems.push(inputProblem('secrets', `${show(entry)}: the file ${show(secret.src)} does not exist`));
  }
  return problems;
}

/** A file secret's src resolved against the workspace, so it does not depend on the tool's working directory. */
function absoluteSecret(entry: string, workspace: string): string {
  const secret = parseSecret(entry);
  return secret.src ? `id=${secret.id},src=${resolve(workspace, secret.src)}` : entry;
}

function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw))
    throw new UserError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${show(raw)}.`);
  return Number(raw);
}

/** Builds the image once into a fresh OCI layout, verifies it, and hands on layout-path, digest and platforms. */
export async function main(ctx: ActionContext): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  // Relative paths mean what they mean in a workflow: relative to the workspace the step runs in.
  const workspace = ctx.env.GITHUB_WORKSPACE || process.cwd();
  const context = resolve(workspace, input.context);
  const file = input.file === undefined ? undefined : resolve(workspace, input.file);
  const builder = input.builder;
  const cache = defaultCache(defaultCacheScope(context, file, input.target, workspace));
  const request: BuildRequest = {
    context,
    file,
    platforms: uniquePlatforms(input.platforms),
    buildArgs: input['build-args'],
    secrets: input.secrets.map((entry) => absoluteSecret(entry, workspace)),
    labels: input.labels,
    annotations: input.annotations,
    target: input.target,
    // Defaults are BuildKit's gha cache; buildah has no such cache, so it gets none unless asked (and then refuses).
    cacheFrom: input['cache-from'] ?? (builder === 'buildx' ? cache.from : []),
    cacheTo: input['cache-to'] ?? (builder === 'buildx' ? cache.to : []),
    provenance: input.provenance,
    sbom: input.sbom,
    layoutPath: '',
    timestamp: sourceDateEpoch(ctx.env),
  };
  const problems = pathProblems(context, file, request.secrets, builder);
  if (builder === 'buildah') problems.push(...buildahProblems(request));
  const layoutPath = input['layout-path'] === undefined ? undefined : resolve(workspace, input['layout-path']);
  if (builder === 'buildx' && layoutPath && /[,"]/.test(layoutPath)) {
    problems.push(
      inputProblem(
        'layout-path',
        `${show(layoutPath)} contains a comma or quote, which buildx's --output CSV cannot carry; use a plain path`,
      ),
    );
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  // The commit and repository go on the index and every manifest: push-layout reads them to tell a rebuild of the
  // same commit (a re-run, a nightly) from another commit. BuildKit refuses index annotations when it writes no index.
  const writesIndex =
    builder === 'buildah' || request.platforms.length > 1 || attestOn(request.provenance) || attestOn(request.sbom);
  request.annotations.push(
    ...originAnnotations(buildOrigin(ctx.env), request.annotations, writesIndex ? ['manifest', 'index'] : ['manifest']),
  );
  request.layoutPath = await prepareLayoutDir(layoutPath, ctx.tempDir);

  const result: BuildResult = await ctx.group(`Build ${request.platforms.join(', ')} with ${builder}`, () =>
    builder === 'buildx' ? buildWithBuildx(ctx, request) : buildWithBuildah(ctx, request),
  );
  ctx.info(
    `${result.layout.path} holds ${result.layout.digest}: ${result.layout.blobCount} blobs, ${result.layout.totalBytes} bytes, verified.`,
  );

  ctx.output('layout-path', result.layout.path);
  ctx.output('digest', result.layout.digest);
  ctx.output('platforms', JSON.stringify(result.platforms));
  ctx.output('metadata', JSON.stringify(result.metadata));
  await ctx.summary(buildSummary(result));
}
