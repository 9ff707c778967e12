import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { readSbom, type SbomInfo, scannerEnv } from '@golden-image/scanners';

/**
 * `syft scan oci-dir:DIR` of a one-platform layout (singlePlatformLayout), CycloneDX JSON to `output`, named after
 * the image. Syft runs with scannerEnv in `workDir`: no SYFT_* variable or config file of the job changes the SBOM.
 */
export async function syftLayout(
  ctx: ActionContext,
  syft: string,
  options: { layoutDir: string; image: string; output: string; workDir: string },
): Promise<SbomInfo> {
  const args = [
    'scan',
    `oci-dir:${options.layoutDir}`,
    '--source-name',
    options.image,
    '-o',
    `cyclonedx-json=${options.output}`,
  ];
  const env = scannerEnv(ctx.env, join(options.workDir, 'home'), { SYFT_CHECK_FOR_APP_UPDATE: 'false' });
  const result = await ctx.runner.run(syft, args, { env, cwd: options.workDir });
  if (result.exitCode !== 0) {
    throw new UserError(
      `Syft failed on the layout ${options.layoutDir} (exit code ${result.exitCode}): ${lastLines(result.stderr)}`,
    );
  }
  let text: string;
  try {
    text = await readFile(options.output, 'utf8');
  } catch {
    throw new UserError(`Syft exited 0 but wrote no SBOM to ${options.output}.`);
  }
  return readSbom(text, 'cyclonedx-json', options.output);
}

type Bom = Record<string, unknown> & {
  specVersion?: string;
  metadata?: Record<string, unknown> & { component?: Record<string, unknown>; tools?: unknown; timestamp?: string };
  components?: Record<string, unknown>[];
  dependencies?: { ref: string; dependsOn?: string[] }[];
};

/**
 * One CycloneDX document for a multi-platform index: the index is the described component, and each platform's
 * SBOM (as Syft wrote it) becomes a nested `container` component holding that platform's components. bom-refs
 * are prefixed with the platform, so the same package on two platforms stays two components. cosign attest
 * --replace keeps one SBOM per digest, so the index needs one document rather than one per platform.
 */
export function indexSbom(
  image: string,
  digest: string,
  platforms: { platform: string; digest: string; sbom: Bom }[],
): Bom {
  const specVersion = platforms.map((p) => p.sbom.specVersion ?? '1.6').sort(byVersion)[0] ?? '1.6';
  const indexRef = `index:${digest}`;
  const dependencies: { ref: string; dependsOn?: string[] }[] = [
    { ref: indexRef, dependsOn: platforms.map((p) => platformRef(p.platform)) },
  ];
  const components = platforms.map(({ platform, digest: manifest, sbom }) => {
    const prefix = (ref: string) => `${platform}:${ref}`;
    const described = sbom.metadata?.component;
    const own = (sbom.components ?? []).map((component) => prefixRefs(component, prefix));
    dependencies.push({
      ref: platformRef(platform),
      dependsOn: (sbom.components ?? []).map((c) => prefix(String(c['bom-ref'] ?? ''))).filter((r) => r !== prefix('')),
    });
    for (const dependency of sbom.dependencies ?? []) {
      dependencies.push({ ref: prefix(dependency.ref), dependsOn: (dependency.dependsOn ?? []).map(prefix) });
    }
    return {
      'bom-ref': platformRef(platform),
      type: 'container',
      name: image,
      version: manifest,
      properties: [
        { name: 'golden-image:platform', value: platform },
        ...(described?.['bom-ref'] ? [{ name: 'golden-image:syft-bom-ref', value: String(described['bom-ref']) }] : []),
      ],
      components: own,
    };
  });
  const first = platforms[0]?.sbom;
  return {
    $schema: `http://cyclonedx.org/schema/bom-${specVersion}.schema.json`,
    bomFormat: 'CycloneDX',
    specVersion,
    serialNumber: serialFor(digest),
    version: 1,
    metadata: {
      ...(first?.metadata?.timestamp ? { timestamp: first.metadata.timestamp } : {}),
      ...(first?.metadata?.tools ? { tools: first.metadata.tools } : {}),
      component: { 'bom-ref': indexRef, type: 'container', name: image, version: digest },
    },
    components,
    dependencies,
  };
}

const platformRef = (platform: string) => `platform:${platform}`;

function prefixRefs(component: Record<string, unknown>, prefix: (ref: string) => string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...component };
  if (typeof copy['bom-ref'] === 'string') copy['bom-ref'] = prefix(copy['bom-ref']);
  if (Array.isArray(copy.components)) {
    copy.components = (copy.components as Record<string, unknown>[]).map((c) => prefixRefs(c, prefix));
  }
  return copy;
}

/** Lowest spec version first: the merged document claims only what every part satisfies. */
function byVersion(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** A stable urn:uuid from the digest (the same index always gets the same serial number). */
function serialFor(digest: string): string {
  const hex = digest.replace(/^sha256:/, '').padEnd(32, '0');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
