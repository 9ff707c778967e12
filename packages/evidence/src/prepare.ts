import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import { UserError } from '@golden-image/kit';
import { isRunnable, type PlatformManifest, verifyLayout } from '@golden-image/oci';
import { singlePlatformLayout } from '@golden-image/scanners';
import type { EvidenceItem } from './attach.js';
import type { EvidenceKind } from './kinds.js';
import { indexSbom, syftLayout } from './sbom.js';
import { type GateOptions, readScanReport } from './scan-report.js';
import type { TrivyDbRecord } from './trivy-db.js';
import { type GateSettings, type PlatformScan, vulnPredicate } from './vuln-predicate.js';

export interface PredicateContext {
  image: string;
  digest: string;
  gate: GateSettings;
  db?: TrivyDbRecord;
  javaDb?: TrivyDbRecord;
  mode: 'release' | 'rescan';
  times?: { startedOn?: string; finishedOn?: string };
  run?: { uri: string; eventId: string };
}

/**
 * The attestations of one digest: for an index, one SBOM (every platform, indexSbom) and one scan result (every
 * platform) about the index; for each platform manifest its own SBOM and scan result.
 */
export function evidenceItems(
  kinds: readonly EvidenceKind[],
  platforms: PlatformManifest[],
  scans: PlatformScan[],
  sboms: Map<string, Record<string, unknown>>,
  context: PredicateContext,
): EvidenceItem[] {
  const vuln = (subject: string, of: PlatformScan[]) =>
    vulnPredicate({
      image: context.image,
      subject,
      scans: of,
      gate: context.gate,
      db: context.db,
      javaDb: context.javaDb,
      mode: context.mode,
      scanStartedOn: context.times?.startedOn,
      scanFinishedOn: context.times?.finishedOn,
      run: context.run,
    });
  const items: EvidenceItem[] = [];
  // The top-level digest is an index unless it is the one platform manifest itself.
  if (!platforms.some((p) => p.digest === context.digest)) {
    if (kinds.includes('sbom')) {
      const parts = platforms.map((p) => ({ platform: p.platform, digest: p.digest, sbom: sbomOf(sboms, p) }));
      items.push({
        digest: context.digest,
        platform: 'index',
        kind: 'sbom',
        predicate: indexSbom(context.image, context.digest, parts),
      });
    }
    if (kinds.includes('vuln')) {
      items.push({ digest: context.digest, platform: 'index', kind: 'vuln', predicate: vuln(context.digest, scans) });
    }
  }
  for (const [i, manifest] of platforms.entries()) {
    if (kinds.includes('sbom')) {
      items.push({
        digest: manifest.digest,
        platform: manifest.platform,
        kind: 'sbom',
        predicate: sbomOf(sboms, manifest),
      });
    }
    if (kinds.includes('vuln')) {
      items.push({
        digest: manifest.digest,
        platform: manifest.platform,
        kind: 'vuln',
        predicate: vuln(manifest.digest, [scans[i] as PlatformScan]),
      });
    }
  }
  return items;
}

function sbomOf(sboms: Map<string, Record<string, unknown>>, manifest: PlatformManifest): Record<string, unknown> {
  const sbom = sboms.get(manifest.digest);
  if (!sbom) throw new Error(`no SBOM was made for ${manifest.platform}`);
  return sbom;
}

export interface PrepareOptions {
  layoutPath: string;
  report: string;
  kinds: readonly EvidenceKind[];
  gate: GateOptions;
  syft?: string;
  work: string;
  context: PredicateContext;
}

/**
 * mode release/prepare: the layout verified against the digest, scan-layout's report of exactly that digest
 * re-gated, Syft on each platform of the layout; returns the predicates to attach.
 */
export async function prepareEvidence(
  ctx: ActionContext,
  options: PrepareOptions,
): Promise<{ items: EvidenceItem[]; scans: PlatformScan[] }> {
  const { digest, image } = options.context;
  const layout = await ctx.group('Verify the layout', () => verifyLayout(options.layoutPath, digest));
  const platforms = layout.manifests.filter(isRunnable);
  if (platforms.length === 0)
    throw new UserError(`The layout ${layout.path} holds no platform image; nothing to attest.`);
  const scans = await readScanReport(options.report, digest, platforms, options.gate);
  const sboms = new Map<string, Record<string, unknown>>();
  if (options.kinds.includes('sbom')) {
    if (!options.syft) throw new Error('prepareEvidence needs syft for an SBOM');
    const syft = options.syft;
    for (const [i, manifest] of platforms.entries()) {
      const dir = await singlePlatformLayout(layout.path, manifest, join(options.work, `platform-${i}`));
      const output = join(options.work, `sbom-${i}.cdx.json`);
      const info = await ctx.group(`SBOM of ${manifest.platform} (Syft)`, () =>
        syftLayout(ctx, syft, { layoutDir: dir, image, output, workDir: join(options.work, 'syft') }),
      );
      ctx.info(`${manifest.platform}: ${info.components} components (CycloneDX ${info.specVersion ?? '?'})`);
      sboms.set(manifest.digest, JSON.parse(await readFile(output, 'utf8')) as Record<string, unknown>);
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { items: evidenceItems(options.kinds, platforms, scans, sboms, options.context), scans };
}
