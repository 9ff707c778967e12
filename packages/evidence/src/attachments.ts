import type { Skopeo } from '@golden-image/oci-registry';
import type { BundleFormat } from '@golden-image/signing';

export type Mechanism = 'legacy .att tag' | 'OCI 1.1 referrers API' | 'referrers tag schema';

export interface Attachments {
  mechanism: Mechanism;
  /** Where a reader finds them: the .att or fallback tag, or the referrers endpoint. */
  location: string;
  /** Attestations per predicate type found there; undefined for the referrers API (not read here). */
  byType?: Record<string, number>;
}

/**
 * Where cosign put the attestations of IMAGE@DIGEST, read back from the registry:
 * - legacy format (cosign 2.x default, cosign 3 with --new-bundle-format=false): the image tagged
 *   sha256-<hex>.att, one layer per attestation, on every registry (with or without the referrers API);
 * - new format (Sigstore bundles, cosign 3 default): one OCI 1.1 referrer manifest per attestation, which
 *   go-containerregistry lists in the index tagged sha256-<hex> (the referrers tag schema) when the registry
 *   answers 404 to GET /v2/<name>/referrers/<digest>, and leaves to the registry when it serves that API.
 */
export async function attachmentsOf(
  skopeo: Skopeo,
  image: string,
  digest: string,
  bundleFormat: BundleFormat,
): Promise<Attachments> {
  const tag = digest.replace(':', '-');
  if (bundleFormat === 'legacy') {
    const location = `${image}:${tag}.att`;
    const raw = await skopeo.rawManifest(location);
    const layers = raw ? ((JSON.parse(raw.toString('utf8')) as { layers?: Described[] }).layers ?? []) : [];
    return { mechanism: 'legacy .att tag', location, byType: countBy(layers, 'predicateType') };
  }
  const fallback = `${image}:${tag}`;
  const raw = await skopeo.rawManifest(fallback);
  if (!raw) return { mechanism: 'OCI 1.1 referrers API', location: `${image} referrers of ${digest}` };
  const manifests = (JSON.parse(raw.toString('utf8')) as { manifests?: Described[] }).manifests ?? [];
  return {
    mechanism: 'referrers tag schema',
    location: fallback,
    byType: countBy(manifests, 'dev.sigstore.bundle.predicateType'),
  };
}

interface Described {
  annotations?: Record<string, string>;
}

function countBy(items: Described[], annotation: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const type = item.annotations?.[annotation];
    if (type) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}
