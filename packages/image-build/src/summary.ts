import { md } from '@golden-image/kit';
import type { BuildResult } from './types.js';

/** The job summary of one build: what was built, where, and each platform's manifest. */
export function buildSummary(result: BuildResult, title = 'build-oci'): string {
  const { layout } = result;
  const attestations = layout.manifests.filter((m) => m.attestation).length;
  return [
    md.heading(title),
    md.facts([
      ['builder', result.builder],
      ['digest', md.code(layout.digest)],
      ['layout', md.code(layout.path)],
      ['blobs', `${layout.blobCount} (${layout.totalBytes} bytes), all verified`],
      ['attestation manifests', String(attestations)],
    ]),
    '',
    md.table(
      ['platform', 'manifest'],
      Object.entries(result.platforms).map(([platform, digest]) => [platform, md.code(digest)]),
    ),
    '',
  ].join('\n');
}
