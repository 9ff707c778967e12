import type { ActionContext, InputSpec } from '@golden-image/kit';
import { isImmutableTag } from '@golden-image/oci';
import * as attestEvidence from '../attest-evidence/main.js';
import * as buildOci from '../build-oci/main.js';
import * as promoteTags from '../promote-tags/main.js';
import * as pushLayout from '../push-layout/main.js';
import * as scanLayout from '../scan-layout/main.js';
import * as scanRepo from '../scan-repo/main.js';
import * as signDigest from '../sign-digest/main.js';

export type Outputs = Record<string, string>;

/** What the root action lends a step beyond its context. */
export interface StepHooks {
  /** push-layout: run the read-back of the tags later, after the race guard's window (see PushLayoutDeps). */
  deferReadBack?: (readBack: () => Promise<void>) => void;
  /** promote-tags: run just before the first tag moves (the root action's deferred read-back). */
  beforeMove?: () => Promise<void>;
}

export interface Step {
  /** Unique within a plan: `sign-digest ghcr.io/o/app` when there is one per image. */
  name: string;
  spec: InputSpec;
  run(ctx: ActionContext, hooks?: StepHooks): Promise<void>;
  /** The step's inputs, given the outputs of the steps before it. */
  inputs(previous: Record<string, Outputs>): Record<string, string>;
}

/** What the root action decided before planning: the checked inputs the steps need. */
export interface Release {
  images: string[];
  immutable: string[];
  rolling: string[];
  /** false: build and scan only (pull requests by default). */
  push: boolean;
  scanRepo: boolean;
  /** The directory scan-repo gates (relative to the workspace): the same default as the reusable workflow, the repository. */
  scanRepoPath?: string;
  sign: boolean;
  key?: string;
  /** sign-digest's kyverno-policy-kind (auto when unset). */
  policyKind?: string;
  /** Attach the SBOM and scan result, and require them before promotion; default: whenever signing is on. */
  attest?: boolean;
  build: Record<string, string | undefined>;
  /** What every gate shares: severity, ignore-unfixed, trivyignores. */
  gates: Record<string, string | undefined>;
  /** Trivy's DB mirrors. */
  scanners: Record<string, string | undefined>;
  /** skip-dirs of both Trivy scans (the repository and the image). */
  skipDirs?: string;
  /** scan-layout's scanners (vuln when unset). */
  imageScanners?: string;
  /** scan-repo's own: block-uncalled, osv-offline-db. */
  repoGate?: Record<string, string | undefined>;
  /** A private Sigstore instance (sign-digest, attest-evidence, promote-tags). */
  sigstore?: Record<string, string | undefined>;
  registry: Record<string, string | undefined>;
  tools: Record<string, string | undefined>;
  allowOverwrite: boolean;
  /** push-layout's race guard window (its default when unset). */
  tagRaceWindowMs?: string;
}

export const given = (values: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));

/** scan-layout's own inputs: what Trivy looks for, and where not to look. */
function imageScan(release: Release): Record<string, string | undefined> {
  return { scanners: release.imageScanners, 'skip-dirs': release.skipDirs };
}

/**
 * The steps of one release, in order: gate the repository, build, scan every platform, push to every image, sign
 * every image, and only then promote every image, so one failing registry leaves every rolling tag where it was.
 */
export function plan(release: Release): Step[] {
  const steps: Step[] = [];
  if (release.scanRepo) {
    steps.push({
      name: 'scan-repo',
      spec: scanRepo.inputs,
      run: (ctx) => scanRepo.main(ctx),
      inputs: () =>
        given({
          path: release.scanRepoPath ?? '.',
          ...release.gates,
          ...release.scanners,
          'skip-dirs': release.skipDirs,
          ...release.repoGate,
          ...release.tools,
        }),
    });
  }
  steps.push(
    {
      name: 'build-oci',
      spec: buildOci.inputs,
      run: (ctx) => buildOci.main(ctx),
      inputs: () => given(release.build),
    },
    {
      name: 'scan-layout',
      spec: scanLayout.inputs,
      run: (ctx) => scanLayout.main(ctx),
      inputs: (previous) =>
        given({
          'layout-path': previous['build-oci']?.['layout-path'],
          digest: previous['build-oci']?.digest,
          image: release.images[0],
          ...release.gates,
          ...release.scanners,
          ...imageScan(release),
          ...release.tools,
        }),
    },
  );
  if (!release.push) return steps;
  steps.push({
    name: 'push-layout',
    spec: pushLayout.inputs,
    run: (ctx, hooks) => pushLayout.main(ctx, { deferReadBack: hooks?.deferReadBack }),
    inputs: (previous) =>
      given({
        'layout-path': previous['build-oci']?.['layout-path'],
        digest: previous['scan-layout']?.digest,
        image: release.images.join('\n'),
        tags: release.immutable.join('\n'),
        'allow-overwrite': String(release.allowOverwrite),
        'tag-race-window-ms': release.tagRaceWindowMs,
        ...release.registry,
      }),
  });
  const attest = release.sign && release.attest !== false;
  const pushed = (previous: Record<string, Outputs>) => previous['push-layout']?.digest;
  const signName = (image: string) => (release.images.length > 1 ? `sign-digest ${image}` : 'sign-digest');
  if (release.sign) {
    for (const image of release.images) {
      steps.push({
        name: signName(image),
        spec: signDigest.inputs,
        run: (ctx) => signDigest.main(ctx),
        inputs: (previous) =>
          given({
            image,
            digest: pushed(previous),
            // the platform manifests by name: signed beside the index, without BuildKit's attestation manifests
            platforms: previous['push-layout']?.platforms || undefined,
            key: release.key,
            'kyverno-policy-kind': release.policyKind,
            ...release.sigstore,
            ...release.registry,
            ...release.tools,
          }),
      });
    }
  }
  const attestName = (image: string) => (release.images.length > 1 ? `attest-evidence ${image}` : 'attest-evidence');
  const layoutOf = (previous: Record<string, Outputs>) => previous['build-oci']?.['layout-path'];
  if (attest) {
    for (const image of release.images) {
      steps.push({
        name: attestName(image),
        spec: attestEvidence.inputs,
        run: (ctx) => attestEvidence.main(ctx),
        inputs: (previous) => {
          const signed = previous[signName(image)];
          return given({
            image,
            digest: signed?.digest ?? pushed(previous),
            'layout-path': layoutOf(previous),
            report: previous['scan-layout']?.report,
            key: release.key,
            // derived once, by sign-digest
            'public-key': (release.key && signed?.['public-key']) || undefined,
            'certificate-identity': signed?.['certificate-identity'] || undefined,
            'certificate-oidc-issuer': signed?.['certificate-oidc-issuer'] || undefined,
            'source-repository': signed?.['source-repository'] || undefined,
            'kyverno-policy': signed?.['kyverno-policy'] || undefined,
            ...release.gates,
            ...release.sigstore,
            ...release.registry,
            ...release.tools,
          });
        },
      });
    }
  }
  if (release.rolling.length === 0) return steps;
  for (const image of release.images) {
    steps.push({
      name: release.images.length > 1 ? `promote-tags ${image}` : 'promote-tags',
      spec: promoteTags.inputs,
      run: (ctx, hooks) => promoteTags.main(ctx, new Date(), { beforeMove: hooks?.beforeMove }),
      inputs: (previous) => {
        const signed = previous[signName(image)];
        return given({
          image,
          digest: signed?.digest ?? pushed(previous),
          tags: release.rolling.join('\n'),
          // rolling-tags are rolling whatever they look like (the root action said so when it planned)
          'allow-immutable-tags': release.rolling.some(isImmutableTag) ? 'true' : undefined,
          engine: 'skopeo',
          'require-signature': String(release.sign),
          'certificate-identity': signed?.['certificate-identity'] || undefined,
          'certificate-oidc-issuer': signed?.['certificate-oidc-issuer'] || undefined,
          'source-repository': signed?.['source-repository'] || undefined,
          'bundle-format': signed?.['bundle-format'] || undefined,
          key: signed?.['public-key'] || undefined,
          'require-attestations': attest ? 'sbom,vuln' : undefined,
          ...release.sigstore,
          ...release.registry,
          ...release.tools,
        });
      },
    });
  }
  return steps;
}
