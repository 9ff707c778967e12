import {
  type ActionContext,
  booleanInput,
  enumInput,
  type InputSpec,
  inputProblem,
  listInput,
  maskSecretInputs,
  md,
  optionalString,
  parseInputs,
  stepContext,
  UserError,
} from '@golden-image/kit';
import { expandTagTemplate, imageInput, resolveTags } from '@golden-image/oci';
import { keyInput, requireGithubOidc } from '@golden-image/signing';
import * as buildOci from '../build-oci/main.js';
import * as promoteTags from '../promote-tags/main.js';
import * as pushLayout from '../push-layout/main.js';
import * as scanLayout from '../scan-layout/main.js';
import * as scanRepo from '../scan-repo/main.js';
import * as signDigest from '../sign-digest/main.js';

/** The root (Marketplace) action: the whole chain for one image in one step, through the six actions' own code. */
export const inputs = {
  image: imageInput(),
  context: optionalString(),
  file: optionalString(),
  platforms: optionalString(),
  'build-args': optionalString(),
  builder: enumInput(['buildx', 'buildah'], 'buildx'),
  tags: listInput({}),
  'rolling-tags': listInput({ defaultValue: ['latest'] }),
  severity: optionalString(),
  'ignore-unfixed': booleanInput(false),
  'scan-repo': booleanInput(true),
  sign: booleanInput(true),
  key: keyInput(),
  'tls-verify': booleanInput(true),
  username: optionalString(),
  password: optionalString(),
  'install-tools': booleanInput(true),
  'tool-mirror': optionalString(),
};

type Input = ReturnType<typeof parseInputs<typeof inputs>>;
type Outputs = Record<string, string>;

interface Step {
  name: string;
  spec: InputSpec;
  run(ctx: ActionContext): Promise<void>;
  /** The step's inputs, given the outputs of the steps before it. */
  inputs(previous: Record<string, Outputs>): Record<string, string>;
}

/** Stands in for a value an earlier step hands on, so every step's inputs can be checked before anything runs. */
const PLACEHOLDERS: Record<string, string> = { 'layout-path': '/placeholder', digest: `sha256:${'0'.repeat(64)}` };

export async function main(ctx: ActionContext): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  const immutable = immutableTags(input, ctx.env);
  const steps = plan(input, immutable);

  // Every input of every step is validated before the first step runs: nothing is built, pushed or signed
  // when, say, a rolling tag is malformed.
  const problems: string[] = [];
  for (const step of steps) {
    const raw = step.inputs({});
    try {
      parseInputs(step.spec, (name) => raw[name] ?? PLACEHOLDERS[name] ?? '');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(...error.message.split('\n').map((line) => `${step.name}: ${line}`));
    }
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  const expanded = input['rolling-tags'].map((template) => {
    const { tag, problem } = expandTagTemplate(template, new Date());
    if (problem) throw new UserError(inputProblem('rolling-tags', problem));
    return tag as string;
  });
  resolveTags(expanded, input.image, 'rolling-tags');
  if (input.sign && !input.key) requireGithubOidc(ctx.env);

  const outputs: Record<string, Outputs> = {};
  for (const step of steps) {
    ctx.info(`\n━━ ${step.name} ━━`);
    const { ctx: stepCtx, outputs: stepOutputs } = stepContext(ctx, step.inputs(outputs));
    await step.run(stepCtx);
    outputs[step.name] = stepOutputs;
  }

  const digest = outputs['promote-tags']?.digest ?? '';
  const results: [string, string][] = [
    ['digest', digest],
    ['image-ref', outputs['push-layout']?.['image-ref'] ?? ''],
    ['layout-path', outputs['build-oci']?.['layout-path'] ?? ''],
    ['platforms', outputs['push-layout']?.platforms ?? ''],
    ['tags', [outputs['push-layout']?.tags, outputs['promote-tags']?.tags].filter(Boolean).join('\n')],
    ['verify-command', outputs['sign-digest']?.['verify-command'] ?? ''],
    ['kyverno-policy', outputs['sign-digest']?.['kyverno-policy'] ?? ''],
  ];
  for (const [name, value] of results) ctx.output(name, value);
  await ctx.summary(
    [
      md.heading('golden-image chain'),
      `${steps.map((step) => step.name).join(' → ')}: every step passed.\n`,
      md.facts(results.filter(([, value]) => value).map(([name, value]) => [name, md.code(value)])),
      '',
    ].join('\n'),
  );
}

/** Immutable tags: the caller's, or sha-<short commit> on a runner. */
function immutableTags(input: Input, env: NodeJS.ProcessEnv): string[] {
  if (input.tags.length > 0) return resolveTags(input.tags, input.image);
  if (env.GITHUB_SHA && /^[0-9a-f]{40}$/.test(env.GITHUB_SHA)) return [`sha-${env.GITHUB_SHA.slice(0, 7)}`];
  throw new UserError(inputProblem('tags', 'is required when GITHUB_SHA is not set: give the immutable tags to push'));
}

function plan(input: Input, immutable: string[]): Step[] {
  const given = (values: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const registry = given({
    'tls-verify': String(input['tls-verify']),
    username: input.username,
    password: input.password,
  });
  const tools = given({ 'install-tools': String(input['install-tools']), 'tool-mirror': input['tool-mirror'] });
  const gates = given({ severity: input.severity, 'ignore-unfixed': String(input['ignore-unfixed']) });
  const steps: Step[] = [];
  if (input['scan-repo']) {
    steps.push({
      name: 'scan-repo',
      spec: scanRepo.inputs,
      run: (ctx) => scanRepo.main(ctx),
      inputs: () => given({ path: input.context, ...gates, ...tools }),
    });
  }
  steps.push(
    {
      name: 'build-oci',
      spec: buildOci.inputs,
      run: (ctx) => buildOci.main(ctx),
      inputs: () =>
        given({
          context: input.context,
          file: input.file,
          platforms: input.platforms,
          'build-args': input['build-args'],
          builder: input.builder,
        }),
    },
    {
      name: 'scan-layout',
      spec: scanLayout.inputs,
      run: (ctx) => scanLayout.main(ctx),
      inputs: (previous) =>
        given({
          'layout-path': previous['build-oci']?.['layout-path'],
          digest: previous['build-oci']?.digest,
          ...gates,
          ...tools,
        }),
    },
    {
      name: 'push-layout',
      spec: pushLayout.inputs,
      run: (ctx) => pushLayout.main(ctx),
      inputs: (previous) =>
        given({
          'layout-path': previous['build-oci']?.['layout-path'],
          digest: previous['scan-layout']?.digest,
          image: input.image,
          tags: immutable.join('\n'),
          ...registry,
        }),
    },
  );
  if (input.sign) {
    steps.push({
      name: 'sign-digest',
      spec: signDigest.inputs,
      run: (ctx) => signDigest.main(ctx),
      inputs: (previous) =>
        given({
          image: input.image,
          digest: previous['push-layout']?.digest,
          key: input.key,
          'tls-verify': String(input['tls-verify']),
          ...tools,
        }),
    });
  }
  steps.push({
    name: 'promote-tags',
    spec: promoteTags.inputs,
    run: (ctx) => promoteTags.main(ctx),
    inputs: (previous) => {
      const signed = previous['sign-digest'];
      return given({
        image: input.image,
        digest: signed?.digest ?? previous['push-layout']?.digest,
        tags: input['rolling-tags'].join('\n'),
        engine: 'skopeo',
        'require-signature': String(input.sign),
        'certificate-identity': signed?.['certificate-identity'] || undefined,
        'certificate-oidc-issuer': signed?.['certificate-oidc-issuer'] || undefined,
        key: signed?.['public-key'] || undefined,
        ...registry,
        ...tools,
      });
    },
  });
  return steps;
}
