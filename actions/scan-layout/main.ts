import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  checkedString,
  listInput,
  optionalCheckedString,
  optionalString,
  parseInputs,
  requiredString,
  show,
  UserError,
} from '@golden-image/kit';
import { describeVerification, digestProblem, imageProblem, isRunnable, verifyLayout } from '@golden-image/oci';
import {
  buildSarif,
  closeTrivySession,
  type DbCache,
  type Finding,
  gateTrivyReport,
  IgnoreRules,
  type IgnoreSection,
  imageLabel,
  layoutSummary,
  loadIgnoreFiles,
  openTrivySession,
  renamedTarget,
  resolveIgnoreFiles,
  type Severity,
  type SeverityCounts,
  severityInput,
  singlePlatformLayout,
  trivyDbSummary,
  trivyDbsUsed,
  trivyImage,
  withImageTargets,
  withoutUnscored,
} from '@golden-image/scanners';
import { type EnsureOptions, ensureTool, toolInputSpec, toolRequest } from '@golden-image/tools';

/** Trivy's scanners, as trivy-action's scanners input names them; each is run on every platform of the image. */
export const SCANNERS = ['vuln', 'secret', 'misconfig', 'license'] as const;

const SECTION_OF: Record<(typeof SCANNERS)[number], IgnoreSection> = {
  vuln: 'vulnerabilities',
  secret: 'secrets',
  misconfig: 'misconfigurations',
  license: 'licenses',
};

export const inputs = {
  'layout-path': requiredString('the layout-path output of build-oci'),
  digest: checkedString(digestProblem, 'the digest output of build-oci'),
  image: optionalCheckedString(imageProblem),
  severity: severityInput(),
  'ignore-unfixed': booleanInput(false),
  scanners: listInput({
    defaultValue: ['vuln'],
    check: (entry) =>
      (SCANNERS as readonly string[]).includes(entry)
        ? undefined
        : `${show(entry)} is not a Trivy scanner of images: use a comma-separated list of ${SCANNERS.join(', ')}` +
          (entry === 'config' ? ' (misconfig is the scanner of misconfigurations)' : ''),
  }).transform((entries) => [...new Set(entries)] as (typeof SCANNERS)[number][]),
  'skip-dirs': listInput({}),
  trivyignores: listInput({}),
  'db-repository': listInput({}),
  'java-db-repository': listInput({}),
  'cache-db': booleanInput(true),
  'fail-on-findings': booleanInput(true),
  'sarif-file': optionalString(),
  ...toolInputSpec('trivy'),
};

export interface ScanLayoutDeps {
  tools?: EnsureOptions;
  now?: Date;
  /** The actions cache the Trivy DB is kept in (default: the runner's). */
  cache?: DbCache;
}

/**
 * Scans every platform manifest of a verified layout with Trivy, one at a time (Trivy alone reads only the first
 * platform), and gates on the merged findings computed from Trivy's JSON, never from its exit code.
 */
export async function main(ctx: ActionContext, deps: ScanLayoutDeps = {}): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  const request = toolRequest('trivy', input);
  const severities = new Set(input.severity as Severity[]);
  const workspace = ctx.env.GITHUB_WORKSPACE || process.cwd();
  const ignoreFiles = resolveIgnoreFiles(input.trivyignores, workspace);
  const ignore =
    ignoreFiles.length > 0 ? await loadIgnoreFiles(ignoreFiles, 'trivyignores', deps.now) : IgnoreRules.empty();
  ignore.sections = new Set(input.scanners.map((scanner) => SECTION_OF[scanner]));
  const work = join(ctx.tempDir, 'golden-image-scan-layout');
  if (/[:@]/.test(work))
    throw new UserError(
      `The temporary directory ${work} contains ":" or "@", which Trivy's --input cannot take. Set RUNNER_TEMP to a plain path.`,
    );

  const layout = await ctx.group('Verify the layout', async () => {
    const verified = await verifyLayout(input['layout-path'], input.digest);
    ctx.info(describeVerification(verified));
    return verified;
  });
  ctx.output('digest', layout.digest);
  const platforms = layout.manifests.filter(isRunnable);
  if (platforms.length === 0)
    throw new UserError(
      `The layout ${layout.path} holds no platform image (only attestations or artifacts); nothing to scan.`,
    );
  const skipped = layout.manifests.length - platforms.length;
  ctx.info(
    `Scanning ${platforms.length} platform(s): ${platforms.map((p) => p.platform).join(', ')}${skipped ? ` (${skipped} attestation or artifact manifest(s) skipped)` : ''}.`,
  );

  const trivy = await ctx.group('Install Trivy', () => ensureTool(ctx, request, deps.tools));
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });

  const perPlatform: { platform: string; digest: string; counts: SeverityCounts; report: unknown }[] = [];
  const selected: Finding[] = [];
  const suppressed = { ignored: 0, unfixed: 0 };
  const session = await ctx.group('Trivy vulnerability DB', () =>
    openTrivySession(ctx, trivy, {
      dbRepository: input['db-repository'],
      javaDbRepository: input['java-db-repository'],
      cacheDb: input['cache-db'],
      cache: deps.cache,
    }),
  );
  let reports: { report: unknown; dir: string }[];
  try {
    // The platforms are scanned at once (each Trivy keeps its scan cache in memory; the DBs are opened read-only),
    // and gated in their order.
    reports = await ctx.group(`Scan ${platforms.length} platform(s) with Trivy`, () =>
      inParallel(platforms, availableParallelism(), async (manifest, i) => {
        const dir = await singlePlatformLayout(layout.path, manifest, join(work, `platform-${i}`));
        const report = await trivyImage(ctx, session, dir, join(work, `platform-${i}.json`), {
          scanners: input.scanners,
          skipDirs: input['skip-dirs'],
        });
        await rm(dir, { recursive: true, force: true });
        return { report, dir };
      }),
    );
  } finally {
    await closeTrivySession(ctx, session);
  }
  for (const [i, manifest] of platforms.entries()) {
    const scanned = reports[i] as { report: unknown; dir: string };
    const gate = gateTrivyReport(scanned.report, `for ${manifest.platform}`, {
      severities,
      ignoreUnfixed: input['ignore-unfixed'],
      ignore,
      platform: manifest.platform,
    });
    // Trivy names the scratch directory it was handed; the report and the summary name the image and platform.
    const label = imageLabel(manifest.platform, input.image, layout.digest);
    const report = withImageTargets(scanned.report, scanned.dir, label);
    for (const finding of gate.selected) finding.target = renamedTarget(finding.target, scanned.dir, label);
    selected.push(...gate.selected);
    suppressed.ignored += gate.suppressed.ignored;
    suppressed.unfixed += gate.suppressed.unfixed;
    perPlatform.push({ platform: manifest.platform, digest: manifest.digest, counts: gate.counts, report });
    ctx.info(
      `${manifest.platform} (${manifest.digest}): ${gate.selected.length} finding(s) at ${[...severities].join(',')}.`,
    );
  }

  // The report names the DBs by digest: attest-evidence records them from here, bound to this scan.
  const trivyDbs = trivyDbsUsed(session);
  const reportPath = join(work, 'trivy-report.json');
  await writeFile(
    reportPath,
    JSON.stringify({
      digest: layout.digest,
      ...(input.image ? { image: input.image } : {}),
      scanners: input.scanners,
      layout: layout.path,
      trivyDbs,
      platforms: perPlatform.map(({ platform, digest, report }) => ({ platform, digest, report })),
    }),
  );
  const sarifPath = input['sarif-file'] ? resolve(workspace, input['sarif-file']) : join(work, 'trivy-results.sarif');
  await mkdir(dirname(sarifPath), { recursive: true });
  const sarif = buildSarif([
    {
      tool: 'Trivy',
      version: request.version,
      informationUri: 'https://github.com/aquasecurity/trivy',
      findings: selected,
      locate: (finding) => `oci-layout/${finding.platform ?? ''}/${finding.target.replace(/[^A-Za-z0-9._/-]+/g, '_')}`,
    },
  ]);
  await writeFile(sarifPath, JSON.stringify(sarif));

  const findings: Record<string, Record<string, number>> = {};
  for (const { platform, counts } of perPlatform) findings[platform] = withoutUnscored(counts);
  const failed = selected.length > 0 && input['fail-on-findings'];
  ctx.output('result', failed ? 'failed' : 'passed');
  ctx.output('findings', JSON.stringify(findings));
  ctx.output('report', reportPath);
  ctx.output('sarif', sarifPath);
  ctx.output('db-digest', trivyDbs[0]?.digest ?? '');
  ctx.output('db-ref', trivyDbs[0]?.ref ?? '');
  await ctx.summary(
    layoutSummary(
      layout.digest,
      perPlatform,
      selected,
      suppressed,
      ignore,
      input['ignore-unfixed'],
      [...severities],
      failed,
      input.scanners,
    ) + trivyDbSummary(trivyDbs),
  );

  if (failed) {
    throw new UserError(
      `scan-layout: ${selected.length} finding(s) at ${[...severities].join(',')} in ${input.image ? `${input.image}@` : ''}${layout.digest} (${[...new Set(selected.map((f) => f.platform))].join(', ')}). ` +
        'Fix them, or suppress reviewed ones with a .trivyignore entry (with an exp: date). The layout must not be pushed.',
    );
  }
}

/** Runs `task` on every item, at most `limit` at a time; the results keep the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T, i: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await task(items[i] as T, i);
      } catch (error) {
        errors[i] = error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  // Every scan has ended before the first failure (in the items' order) is thrown.
  const failed = errors.findIndex((error) => error !== undefined);
  if (failed >= 0) throw errors[failed];
  return results;
}
