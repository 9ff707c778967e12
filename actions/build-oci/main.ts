import { resolve } from 'node:path';
import {
  absoluteAfterEquals,
  absoluteSecret,
  annotationProblem,
  attestOn,
  attestProblem,
  type BuildRequest,
  type BuildResult,
  buildArgProblem,
  buildahProblems,
  buildContextProblem,
  buildOrigin,
  buildSummary,
  buildWithBuildah,
  buildWithBuildx,
  cacheProblem,
  controlProblem,
  defaultCache,
  defaultCacheScope,
  isLocalContext,
  labelProblem,
  originAnnotations,
  parseSecret,
  parseSecretFile,
  pathProblems,
  platformProblem,
  prepareLayoutDir,
  type SecretFile,
  secretFileProblem,
  secretProblem,
  sourceDateEpoch,
  sshProblem,
  targetProblem,
  uniquePlatforms,
} from '@golden-image/image-build';
import {
  type ActionContext,
  booleanInput,
  inputProblem,
  listInput,
  optionalCheckedString,
  parseInputs,
  show,
  UserError,
} from '@golden-image/kit';
import * as z from 'zod';

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

/**
 * `secrets`: buildx's `id=NAME,src=FILE` / `id=NAME,env=VAR`, one per line. A problem names the line, never its text:
 * a line may hold a value (build-push-action's own `secrets` form is ID=VALUE).
 */
function secretsInput() {
  return z.string().transform((raw, ctx) => {
    const entries: string[] = [];
    for (const [i, line] of raw.split('\n').entries()) {
      const entry = line.trim();
      if (entry === '') continue;
      const problem = secretProblem(entry);
      if (problem) ctx.addIssue({ code: 'custom', message: `line ${i + 1} ${problem}` });
      else entries.push(entry);
    }
    return entries;
  });
}

export const inputs = {
  context: stringWithDefault('.'),
  file: optionalCheckedString(controlProblem),
  platforms: listInput({ check: platformProblem, defaultValue: ['linux/amd64'] }),
  'build-args': listInput({ lines: true, check: buildArgProblem }),
  secrets: secretsInput(),
  'secret-files': listInput({ lines: true, check: secretFileProblem }),
  ssh: listInput({ lines: true, check: sshProblem }),
  'build-contexts': listInput({ lines: true, check: buildContextProblem }),
  'no-cache': booleanInput(false),
  pull: booleanInput(false),
  labels: listInput({ lines: true, check: labelProblem }),
  annotations: listInput({ lines: true, check: annotationProblem }),
  target: optionalCheckedString(targetProblem),
  'cache-from': cacheInput(),
  'cache-to': cacheInput(),
  provenance: stringWithDefault('mode=max', attestProblem),
  sbom: stringWithDefault('true', attestProblem),
  builder: builderInput(),
  'layout-path': optionalCheckedString(controlProblem),
};

/**
 * `buildx` or `buildah`. Anything else is most often the name docker/setup-buildx-action gave its builder
 * (`builder-4a5b…`, its `name` output), as build-push-action's `builder` input takes it: say what this input means.
 */
function builderInput() {
  return z.string().transform((raw, ctx) => {
    if (raw === '' || raw === 'buildx') return 'buildx' as const;
    if (raw === 'buildah') return 'buildah' as const;
    ctx.addIssue({
      code: 'custom',
      message:
        `must be buildx or buildah, got ${show(raw)}. Here builder picks the build tool, not a buildx builder instance ` +
        "(build-push-action's builder input takes docker/setup-buildx-action's name output). With builder: buildx, " +
        'build-oci runs docker buildx build with the current builder: docker/setup-buildx-action makes the builder it ' +
        'creates the current one (its use input, true by default), so leave builder unset; to pick another named builder, ' +
        'run docker buildx use NAME before this step (or set BUILDX_BUILDER: NAME in the step env)',
    });
    return z.NEVER;
  });
}

/** Builds the image once into a fresh OCI layout, verifies it, and hands on layout-path, digest and platforms. */
export async function main(ctx: ActionContext): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  // Relative paths mean what they mean in a workflow: relative to the workspace the step runs in.
  const workspace = ctx.env.GITHUB_WORKSPACE || process.cwd();
  const context = resolve(workspace, input.context);
  const file = input.file === undefined ? undefined : resolve(workspace, input.file);
  const builder = input.builder;
  const cache = defaultCache(
    defaultCacheScope(context, file, input.target, workspace, uniquePlatforms(input.platforms)),
  );
  const secretFiles: SecretFile[] = [];
  for (const entry of input.secrets) {
    const secret = parseSecret(entry);
    if (secret.src) secretFiles.push({ input: 'secrets', id: secret.id ?? '', src: resolve(workspace, secret.src) });
  }
  const fromFiles = input['secret-files'].map((entry) => parseSecretFile(entry));
  for (const secret of fromFiles)
    secretFiles.push({ input: 'secret-files', id: secret.id ?? '', src: resolve(workspace, secret.file ?? '') });
  const buildContexts = input['build-contexts'].map((entry) => absoluteAfterEquals(entry, workspace, isLocalContext));
  const localContexts = buildContexts
    .map((entry, i): [string, string] => [input['build-contexts'][i] ?? '', entry.slice(entry.indexOf('=') + 1)])
    .filter(([entry]) => isLocalContext(entry.slice(entry.indexOf('=') + 1)));
  const request: BuildRequest = {
    context,
    file,
    platforms: uniquePlatforms(input.platforms),
    buildArgs: input['build-args'],
    secrets: [
      ...input.secrets.map((entry) => absoluteSecret(entry, workspace)),
      ...fromFiles.map((secret) => `id=${secret.id},src=${resolve(workspace, secret.file ?? '')}`),
    ],
    labels: input.labels,
    annotations: input.annotations,
    target: input.target,
    ssh: input.ssh.map((entry) => absoluteAfterEquals(entry, workspace, () => true)),
    buildContexts,
    noCache: input['no-cache'],
    pull: input.pull,
    // Defaults are BuildKit's gha cache; buildah has no such cache, so it gets none unless asked (and then refuses).
    cacheFrom: input['cache-from'] ?? (builder === 'buildx' ? cache.from : []),
    cacheTo: input['cache-to'] ?? (builder === 'buildx' ? cache.to : []),
    provenance: input.provenance,
    sbom: input.sbom,
    layoutPath: '',
    timestamp: sourceDateEpoch(ctx.env),
  };
  const problems = pathProblems(context, file, secretFiles, localContexts, builder);
  const ids = [...input.secrets.map((entry) => parseSecret(entry).id), ...fromFiles.map((secret) => secret.id)];
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0)
    problems.push(
      inputProblem(
        'secret-files',
        `the secret id ${show(twice[0] ?? '')} is given twice (in secrets and secret-files)`,
      ),
    );
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
