import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionContext } from '@golden-image/kit';
import { type EnsureOptions, ensureTool, type ToolRequest } from '@golden-image/tools';
import { type UploadFn, uploadFileArtifact } from './artifact.js';
import { gateOsvReport, type OsvGate } from './osv-report.js';
import { osvScan } from './osv-run.js';
import type { Severity } from './severity.js';
import { type SbomFormat, type SbomInfo, syftDir } from './syft.js';
import type { DbCache, TrivyDbUse } from './trivy-db.js';
import type { IgnoreRules } from './trivy-ignore.js';
import { gateTrivyReport, type TrivyGate } from './trivy-report.js';
import { closeTrivySession, openTrivySession, type TrivySession, trivyDbsUsed, trivyFs } from './trivy-run.js';

export interface DirectoryScanOptions {
  /** The directory every scanner reads (a checkout, or the dependency tree a consumer installs). */
  path: string;
  /** Scratch directory: the reports, the SBOM, and each scanner's working directory. */
  work: string;
  tools: { trivy: ToolRequest; osv: ToolRequest; syft?: ToolRequest; ensure?: EnsureOptions };
  severities: Set<Severity>;
  osv: {
    config?: string;
    offlineDb?: string;
    blockUnscored: boolean;
    blockMalicious: boolean;
    /** true: uncalled findings block and no call analysis runs (it could only let findings through). */
    blockUncalled: boolean;
  };
  trivy: {
    ignoreUnfixed: boolean;
    ignore: IgnoreRules;
    skipDirs: string[];
    dbRepository: string[];
    javaDbRepository?: string[];
    cacheDb: boolean;
    /** The actions cache the DBs are kept in (default: the runner's). */
    cache?: DbCache;
    /** The log group of the filesystem scan. */
    group: string;
    /** More scans in the same Trivy session (its DBs, environment, scratch directory), before it closes. */
    inSession?: (session: TrivySession) => Promise<void>;
  };
  sbom?: { format: SbomFormat; artifact: string; upload?: UploadFn };
}

export interface DirectoryScan {
  osvReport: string;
  /** undefined: OSV-Scanner found no package sources (an empty report is written). */
  osvGate?: OsvGate;
  trivyReport: string;
  trivyGate: TrivyGate;
  /** The Trivy DBs the scans used, by digest. */
  trivyDbs: TrivyDbUse[];
  sbom?: { file: string; info: SbomInfo; artifact: string; uploaded: boolean };
}

const SBOM_EXTENSION: Record<SbomFormat, string> = {
  'cyclonedx-json': 'cdx',
  'spdx-json': 'spdx',
  'syft-json': 'syft',
};

/**
 * The directory-scan sequence of scan-repo and scan-npm: the scanners installed as pinned, OSV-Scanner gated from
 * each group's max_severity, one Trivy session (its DBs restored, updated once, saved even when a gate fails) with a
 * filesystem scan gated like scan-layout's, and a Syft SBOM uploaded as an artifact. Gates are computed, never
 * thrown: the caller reports and decides.
 */
export async function scanDirectory(ctx: ActionContext, options: DirectoryScanOptions): Promise<DirectoryScan> {
  const { tools, work } = options;
  const [trivy, osv, syft] = await ctx.group('Install the scanners', async () => [
    await ensureTool(ctx, tools.trivy, tools.ensure),
    await ensureTool(ctx, tools.osv, tools.ensure),
    tools.syft ? await ensureTool(ctx, tools.syft, tools.ensure) : undefined,
  ]);

  const osvReport = join(work, 'osv-report.json');
  const osvGate = await ctx.group('OSV-Scanner', async (): Promise<OsvGate | undefined> => {
    const run = await osvScan(ctx, osv, {
      path: options.path,
      output: osvReport,
      config: options.osv.config,
      offlineDb: options.osv.offlineDb,
      // Call analysis can only let findings through; when uncalled ones block anyway, nothing of the tree is run.
      callAnalysis: !options.osv.blockUncalled,
      workDir: join(work, 'osv-scanner'),
    });
    if (run.noPackages) {
      await writeFile(osvReport, JSON.stringify({ results: [] }));
      return undefined;
    }
    return gateOsvReport(run.report, osvReport, {
      severities: options.severities,
      blockUnscored: options.osv.blockUnscored,
      blockMalicious: options.osv.blockMalicious,
      blockUncalled: options.osv.blockUncalled,
    });
  });

  const trivyReport = join(work, 'trivy-report.json');
  const session = await ctx.group('Trivy vulnerability DB', () =>
    openTrivySession(ctx, trivy, {
      dbRepository: options.trivy.dbRepository,
      javaDbRepository: options.trivy.javaDbRepository,
      cacheDb: options.trivy.cacheDb,
      cache: options.trivy.cache,
    }),
  );
  let trivyGate: TrivyGate;
  try {
    trivyGate = await ctx.group(options.trivy.group, async () => {
      const report = await trivyFs(ctx, session, options.path, options.trivy.skipDirs, trivyReport);
      return gateTrivyReport(report, trivyReport, {
        severities: options.severities,
        ignoreUnfixed: options.trivy.ignoreUnfixed,
        ignore: options.trivy.ignore,
      });
    });
    await options.trivy.inSession?.(session);
  } finally {
    await closeTrivySession(ctx, session);
  }

  let sbom: DirectoryScan['sbom'];
  const wanted = options.sbom;
  if (syft && wanted) {
    sbom = await ctx.group('Syft SBOM', async () => {
      const file = join(work, `sbom.${SBOM_EXTENSION[wanted.format]}.json`);
      const info = await syftDir(ctx, syft, {
        path: options.path,
        format: wanted.format,
        output: file,
        workDir: join(work, 'syft'),
      });
      const uploaded = await uploadFileArtifact(ctx, wanted.artifact, file, wanted.upload);
      return { file, info, artifact: wanted.artifact, uploaded };
    });
  }
  return {
    osvReport,
    ...(osvGate ? { osvGate } : {}),
    trivyReport,
    trivyGate,
    trivyDbs: trivyDbsUsed(session),
    ...(sbom ? { sbom } : {}),
  };
}
