// The root action's outputs and job summary, from the outputs of the steps it ran.
import { type ActionContext, md } from '@golden-image/kit';
import { TAG_RULE } from '@golden-image/oci';
import type { Outputs, Release } from './plan.js';

export const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target'];

/** The root action's outputs (under its own names) and its summary. */
export async function report(
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
