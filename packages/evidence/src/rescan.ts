import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import { isRunnable, type PlatformManifest, verifyLayout } from '@golden-image/oci';
import type { Skopeo } from '@golden-image/oci-registry';
import {
  closeTrivySession,
  type DbCache,
  gateTrivyReport,
  openTrivySession,
  singlePlatformLayout,
  type TrivyDbUse,
  trivyDbsUsed,
  trivyImage,
} from '@golden-image/scanners';
import type { GateOptions } from './scan-report.js';
import type { PlatformScan } from './vuln-predicate.js';

export interface RescanOptions {
  image: string;
  digest: string;
  skopeo: Skopeo;
  trivy: string;
  work: string;
  gate: GateOptions;
  dbRepository: string[];
  javaDbRepository: string[];
  cacheDb: boolean;
  /** The actions cache the DB is kept in (default: the runner's). */
  cache?: DbCache;
}

export interface Rescan {
  platforms: PlatformManifest[];
  scans: PlatformScan[];
  startedOn: string;
  finishedOn: string;
  /** The DBs the scans used, by digest. */
  dbs: TrivyDbUse[];
}

/**
 * Scans a released digest again, as scan-layout scanned it: copied by digest from the registry into a layout,
 * verified against the digest (every blob hashed), then Trivy on each platform manifest with today's DB.
 * Nothing is rebuilt and no tag is read or moved.
 */
export async function rescanDigest(ctx: ActionContext, options: RescanOptions): Promise<Rescan> {
  const layoutDir = join(options.work, 'layout');
  await rm(layoutDir, { recursive: true, force: true });
  await mkdir(options.work, { recursive: true });
  await ctx.group(`Copy ${options.image}@${options.digest} from the registry`, () =>
    options.skopeo.pullToLayout(options.image, options.digest, layoutDir),
  );
  // Every layer hashed too: what is scanned must be exactly the released digest.
  const layout = await verifyLayout(layoutDir, options.digest, { layers: 'digest' });
  const platforms = layout.manifests.filter(isRunnable);
  const session = await ctx.group('Trivy vulnerability DB', () =>
    openTrivySession(ctx, options.trivy, {
      dbRepository: options.dbRepository,
      javaDbRepository: options.javaDbRepository,
      cacheDb: options.cacheDb,
      cache: options.cache,
    }),
  );
  const startedOn = new Date().toISOString();
  const reports: unknown[] = [];
  try {
    for (const [i, manifest] of platforms.entries()) {
      await ctx.group(`Scan ${manifest.platform} (${manifest.digest})`, async () => {
        const dir = await singlePlatformLayout(layout.path, manifest, join(options.work, `platform-${i}`));
        reports.push(await trivyImage(ctx, session, dir, join(options.work, `platform-${i}.json`)));
        await rm(dir, { recursive: true, force: true });
      });
    }
  } finally {
    await closeTrivySession(ctx, session);
  }
  const finishedOn = new Date().toISOString();
  const scans = platforms.map((manifest, i) => {
    const report = reports[i] as Record<string, unknown>;
    const verdict = gateTrivyReport(report, `for ${manifest.platform}`, {
      severities: new Set(options.gate.severity),
      ignoreUnfixed: options.gate.ignoreUnfixed,
      ignore: options.gate.ignore,
      platform: manifest.platform,
    });
    return { platform: manifest.platform, digest: manifest.digest, report, counts: verdict.counts };
  });
  return { platforms, scans, startedOn, finishedOn, dbs: trivyDbsUsed(session) };
}
