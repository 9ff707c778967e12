import { buildSecretsInput, writeBuildSecrets } from '@golden-image/image-build';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  maskSecretInputs,
  md,
  optionalString,
  parseInputs,
  stepContext,
  UserError,
} from '@golden-image/kit';
import { imagesInput, isImmutableTag, releaseTags, singleRegistryProblem, TAG_RULE } from '@golden-image/oci';
import {
  choosePolicyKind,
  keyInput,
  POLICY_KIND_CHOICES,
  policyKindProblem,
  requireGithubOidc,
} from '@golden-image/signing';
import { type Outputs, plan, type Release } from './plan.js';

/** The root (Marketplace) action: the whole chain in one step, through the six actions' own code. */
export const inputs = {
  image: imagesInput(),
  context: optionalString(),
  file: optionalString(),
  // Lists are checked entry by entry by the step that takes them (build-oci), with the same input names.
  platforms: listInput({}),
  'build-args': listInput({ lines: true }),
  'build-secrets': buildSecretsInput(),
  'secret-files': listInput({ lines: true }),
  ssh: listInput({ lines: true }),
  'build-contexts': listInput({ lines: true }),
  'no-cache': booleanInput(false),
  pull: booleanInput(false),
  target: optionalString(),
  labels: listInput({ lines: true }),
  annotations: listInput({ lines: true }),
  'cache-from': listInput({ lines: true }),
  'cache-to': listInput({ lines: true }),
  provenance: optionalString(),
  sbom: optionalString(),
  // Checked by build-oci (its explanation of a setup-buildx-action builder name included).
  builder: optionalString(),
  tags: listInput({}),
  'rolling-tags': listInput({}),
  push: enumInput(['auto', 'true', 'false'], 'auto'),
  'allow-overwrite': booleanInput(false),
  // Checked by push-layout (0 to 60000).
  'tag-race-window-ms': optionalString(),
  severity: optionalString(),
  'ignore-unfixed': booleanInput(false),
  trivyignores: listInput({}),
  'skip-dirs': listInput({}),
  scanners: listInput({}),
  'scan-repo': booleanInput(true),
  'scan-repo-path': optionalString(),
  'block-uncalled': booleanInput(true),
  'osv-offline-db': optionalString(),
  'db-repository': optionalString(),
  'java-db-repository': optionalString(),
  sign: booleanInput(true),
  attest: booleanInput(true),
  key: keyInput(),
  'kyverno-policy-kind': enumInput(POLICY_KIND_CHOICES, 'auto'),
  // The private Sigstore instance, checked by sign-digest, attest-evidence and promote-tags.
  'fulcio-url': optionalString(),
  'rekor-url': optionalString(),
  'transparency-log': optionalString(),
  'ct-log': optionalString(),
  'certificate-chain': optionalString(),
  'trusted-root': optionalString(),
  'tls-verify': booleanInput(true),
  username: optionalString(),
  password: optionalString(),
  'install-tools': booleanInput(true),
  'tool-mirror': optionalString(),
};

type Input = ReturnType<typeof parseInputs<typeof inputs>>;

/** Stands in for a value an earlier step hands on, so every step's inputs can be checked before anything runs. */
const PLACEHOLDERS: Record<string, string> = { 'layout-path': '/placeholder', digest: `sha256:${'0'.repeat(64)}` };

const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target'];

/** Report outputs of the scan steps, under the root action's names. */
const REPORTS: Record<string, [string, string][]> = {
  'scan-repo': [
    ['sarif', 'scan-repo-sarif'],
    ['trivy-report', 'scan-repo-trivy-report'],
    ['osv-report', 'scan-repo-osv-report'],
  ],
  'scan-layout': [
    ['sarif', 'scan-layout-sarif'],
    ['report', 'scan-layout-report'],
    ['db-digest', 'db-digest'],
    ['db-ref', 'db-ref'],
  ],
};

export async function main(ctx: ActionContext, now: Date = new Date()): Promise<void> {
  maskSecretInputs(ctx, 'password');
  const input = parseInputs(inputs, ctx.input);
  for (const secret of input['build-secrets']) if (secret.value) ctx.secret(secret.value);
  const event = ctx.env.GITHUB_EVENT_NAME;
  const push = input.push === 'auto' ? !PULL_REQUEST_EVENTS.includes(event ?? '') : input.push === 'true';
  // Checked on pull requests too (when the commit is known), so a bad tags input fails before the merge.
  const tags =
    push || ctx.env.GITHUB_SHA
      ? releaseTags({ tags: input.tags, rollingTags: input['rolling-tags'] }, input.image, ctx.env, now)
      : { immutable: [], rolling: [] };
  const immutableRolling = tags.rolling.filter(isImmutableTag);
  if (push && immutableRolling.length > 0) {
    ctx.warning(
      `rolling-tags holds ${immutableRolling.join(', ')}, which the tag rule calls immutable (${TAG_RULE}): ` +
        'it will be moved to every release like latest, because rolling-tags says so. To write it once and never ' +
        'move it, give it in tags instead.',
    );
  }
  if ((input.username || input.password) && singleRegistryProblem(input.image))
    throw new UserError(inputProblem('username', singleRegistryProblem(input.image) as string));

  const secrets = await writeBuildSecrets(input['build-secrets'], ctx.tempDir);
  try {
    const release = releaseOf(input, push, tags, secrets.specs);
    // Every input of every step is validated before the first step runs: nothing is built, pushed or signed
    // when, say, a rolling tag is malformed.
    checkSteps(release);
    if (push && input.sign && !input.key) requireGithubOidc(ctx.env);

    const steps = plan(release);
    const outputs: Record<string, Outputs> = {};
    const took: [string, number][] = [];
    // push-layout's read-back of the tags waits out the race guard's window. Nothing before the rolling tags move
    // trusts a tag: sign-digest and attest-evidence work by digest, and promote-tags checks the signature and the
    // evidence by digest too. So the read-back runs as late as it can, inside promote-tags just before its first tag
    // moves (beforeMove), and the window passes while the digest is signed, attested and verified.
    let readBack: (() => Promise<void>) | undefined;
    let readBackMs = 0;
    const settle = async () => {
      if (!readBack) return;
      const run = readBack;
      readBack = undefined;
      ctx.info('\n━━ push-layout: read every tag back ━━');
      const started = performance.now();
      try {
        await run();
      } finally {
        readBackMs = performance.now() - started;
        took.push(['push-layout (read-back)', readBackMs]);
      }
    };
    const hooks = {
      deferReadBack: (later: () => Promise<void>) => {
        readBack = later;
      },
      beforeMove: settle,
    };
    const byDigest = /^(sign-digest|attest-evidence|promote-tags)/;
    for (const step of steps) {
      if (!byDigest.test(step.name)) await settle();
      ctx.info(`\n━━ ${step.name} ━━`);
      const { ctx: stepCtx, outputs: stepOutputs } = stepContext(ctx, step.inputs(outputs));
      const started = performance.now();
      const readBackBefore = readBackMs;
      try {
        await step.run(stepCtx, hooks);
      } finally {
        // a read-back run inside the step (beforeMove) is its own row, not the step's
        took.push([step.name, performance.now() - started - (readBackMs - readBackBefore)]);
        outputs[step.name] = stepOutputs;
        // A scan's SARIF and JSON reports are handed on even when its gate fails: that is when they are needed most.
        for (const [output, as] of REPORTS[step.name] ?? []) {
          const value = stepOutputs[output];
          if (value) ctx.output(as, value);
        }
      }
    }
    await settle();
    await report(ctx, release, took, outputs, event);
  } finally {
    await secrets.remove();
  }
}

/**
 * The form of the Kyverno policy, decided here where it is known whether attest-evidence will require the evidence
 * (sign-digest alone assumes not); refused before anything runs when the form asked for cannot hold what is signed.
 */
function policyKindOf(input: Input): string | undefined {
  if (!input.sign) return undefined;
  const { kind, refused } = choosePolicyKind(input['kyverno-policy-kind'], {
    signer: input.key ? 'key' : 'keyless',
    bundleFormat: 'legacy',
    transparencyLog: !['false', 'False', 'FALSE'].includes(input['transparency-log'] ?? ''),
    evidence: input.attest,
  });
  if (refused) throw new UserError(policyKindProblem(refused));
  return kind;
}

function releaseOf(
  input: Input,
  push: boolean,
  tags: { immutable: string[]; rolling: string[] },
  secretSpecs: string[],
): Release {
  const tools = { 'install-tools': String(input['install-tools']), 'tool-mirror': input['tool-mirror'] };
  return {
    images: input.image,
    ...tags,
    push,
    scanRepo: input['scan-repo'],
    sign: input.sign,
    attest: input.attest,
    key: input.key,
    policyKind: policyKindOf(input),
    scanRepoPath: input['scan-repo-path'] ?? '.',
    build: {
      context: input.context,
      file: input.file,
      platforms: joined(input.platforms, ','),
      'build-args': joined(input['build-args']),
      secrets: joined(secretSpecs),
      'secret-files': joined(input['secret-files']),
      ssh: joined(input.ssh),
      'build-contexts': joined(input['build-contexts']),
      'no-cache': String(input['no-cache']),
      pull: String(input.pull),
      target: input.target,
      labels: joined(input.labels),
      annotations: joined(input.annotations),
      'cache-from': joined(input['cache-from']),
      'cache-to': joined(input['cache-to']),
      provenance: input.provenance,
      sbom: input.sbom,
      builder: input.builder,
    },
    gates: {
      severity: input.severity,
      'ignore-unfixed': String(input['ignore-unfixed']),
      trivyignores: joined(input.trivyignores, ','),
    },
    scanners: { 'db-repository': input['db-repository'], 'java-db-repository': input['java-db-repository'] },
    skipDirs: joined(input['skip-dirs'], ','),
    imageScanners: joined(input.scanners, ','),
    repoGate: { 'block-uncalled': String(input['block-uncalled']), 'osv-offline-db': input['osv-offline-db'] },
    sigstore: {
      'fulcio-url': input['fulcio-url'],
      'rekor-url': input['rekor-url'],
      'transparency-log': input['transparency-log'],
      'ct-log': input['ct-log'],
      'certificate-chain': input['certificate-chain'],
      'trusted-root': input['trusted-root'],
    },
    registry: { 'tls-verify': String(input['tls-verify']), username: input.username, password: input.password },
    tools,
    allowOverwrite: input['allow-overwrite'],
    tagRaceWindowMs: input['tag-race-window-ms'],
  };
}

/** A list input handed on to a step: one entry per line (or `separator`), or unset when empty. */
function joined(entries: readonly string[], separator = '\n'): string | undefined {
  return entries.length > 0 ? entries.join(separator) : undefined;
}

function checkSteps(release: Release): void {
  const problems: string[] = [];
  for (const step of plan(release)) {
    const raw = step.inputs({});
    try {
      parseInputs(step.spec, (name) => raw[name] ?? PLACEHOLDERS[name] ?? '');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(...error.message.split('\n').map((line) => `${step.name}: ${line}`));
    }
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}

async function report(
  ctx: ActionContext,
  release: Release,
  took: [string, number][],
  outputs: Record<string, Outputs>,
  event: string | undefined,
): Promise<void> {
  const promoted = Object.entries(outputs).filter(([name]) => name.startsWith('promote-tags'));
  const signed = Object.entries(outputs).filter(([name]) => name.startsWith('sign-digest'));
  const digest = outputs['push-layout']?.digest ?? outputs['scan-layout']?.digest ?? outputs['build-oci']?.digest;
  const imageRefs = release.push ? release.images.map((image) => `${image}@${digest}`).join('\n') : '';
  const results: [string, string][] = [
    ['digest', digest ?? ''],
    ['image-ref', imageRefs],
    ['layout-path', outputs['build-oci']?.['layout-path'] ?? ''],
    ['platforms', outputs['push-layout']?.platforms ?? outputs['build-oci']?.platforms ?? ''],
    ['tags', [outputs['push-layout']?.tags, ...promoted.map(([, out]) => out.tags)].filter(Boolean).join('\n')],
    ['kept-tags', outputs['push-layout']?.['kept-tags'] ?? ''],
    ['pushed', String(release.push)],
    [
      'verify-command',
      signed
        .map(([, out]) => out['verify-command'])
        .filter(Boolean)
        .join('\n'),
    ],
    // attest-evidence's copy of the policy also requires the SBOM and the scan result.
    [
      'kyverno-policy',
      Object.entries(outputs).find(([name]) => name.startsWith('attest-evidence'))?.[1]['kyverno-policy'] ||
        (signed[0]?.[1]['kyverno-policy'] ?? ''),
    ],
    ['kyverno-policy-kind', signed[0]?.[1]['kyverno-policy-kind'] ?? ''],
  ];
  for (const [name, value] of results) ctx.output(name, value);
  const names = took.map(([name]) => name).filter((name) => !name.endsWith('(read-back)'));
  const lines = [md.heading('golden-image chain'), `${names.join(' → ')}: every step passed.\n`];
  if (!release.push) {
    lines.push(
      `**Nothing was pushed, signed or tagged**: push is off${PULL_REQUEST_EVENTS.includes(event ?? '') ? ` on ${event} events (set push: true to publish from them)` : ''}. The image was built and scanned.\n`,
    );
  }
  if (release.push) lines.push(`Tag rule: ${TAG_RULE}.\n`);
  lines.push(md.facts(results.filter(([, value]) => value).map(([name, value]) => [name, md.code(value)])), '');
  lines.push(
    md.heading('Where the time went', 3),
    md.table(
      ['step', 'seconds'],
      took.map(([name, ms]) => [name, (ms / 1000).toFixed(2)]),
    ),
    '',
  );
  await ctx.summary(lines.join('\n'));
}
