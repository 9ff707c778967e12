import { UserError } from '@golden-image/kit';
import type { Skopeo } from '@golden-image/oci-registry';

/**
 * The runnable platform manifests of IMAGE@DIGEST as the registry holds it: the index's entries without BuildKit
 * attestation manifests (platform unknown/unknown), or [] when the digest is a single manifest.
 */
export async function pushedPlatforms(skopeo: Skopeo, image: string, digest: string): Promise<string[]> {
  const raw = await skopeo.rawManifest(`${image}@${digest}`);
  if (!raw) throw new UserError(`${image}@${digest} is not in the registry: push it first (push-layout).`);
  const body = JSON.parse(raw.toString('utf8')) as {
    manifests?: { digest: string; platform?: { os?: string }; annotations?: Record<string, string> }[];
  };
  return (body.manifests ?? [])
    .filter(
      (m) => m.platform?.os !== 'unknown' && m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
    )
    .map((m) => m.digest);
}
