import { writeBuildSecrets } from '@golden-image/image-build';
import {
  type ActionContext,
  inputProblem,
  maskSecretInputs,
  parseInputs,
  stepContext,
  UserError,
} from '@golden-image/kit';
import { isImmutableTag, releaseTags, singleRegistryProblem, TAG_RULE } from '@golden-image/oci';
import { requireGithubOidc } from '@golden-image/signing';
import { inputs } from './inputs.js';
import { type Outputs, plan } from './plan.js';
import { checkSteps, releaseOf } from './release.js';
import { PULL_REQUEST_EVENTS, report } from './report.js';

export { inputs };

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

/** The root (Marketplace) action: the whole chain in one step, through the six actions' own code. */
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
