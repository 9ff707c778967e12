import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import {
  annotateFindings,
  buildSarif,
  type DbCache,
  type Finding,
  IgnoreRules,
  loadIgnoreFiles,
  repoSummary,
  resolveIgnoreFiles,
  resolveOsvOfflineDb,
  SBOM_FORMATS,
  type Severity,
  sarifUri,
  scanDirectory,
  severityInput,
  trivyDbSummary,
  type UploadFn,
  uniqueArtifactName,
  withoutUnscored,
} from '@golden-image/scanners';
import { type EnsureOptions, toolInputSpec, toolRequest } from '@golden-image/tools';

export const inputs = {
  path: optionalString(),
  'osv-config': optionalString(),
  'osv-offline-db': optionalString(),
  trivyignores: listInput({}),
  severity: severityInput(),
  'ignore-unfixed': booleanInput(false),
  'block-unscored': booleanInput(true),
  'block-malicious': booleanInput(true),
  'block-uncalled': booleanInput(true),
  'skip-dirs': listInput({}),
  sbom: booleanInput(true),
  'sbom-format': enumInput(SBOM_FORMATS, 'cyclonedx-json'),
  'artifact-name': optionalString(),
  'db-repository': listInput({}),
  'java-db-repository': listInput({}),
  'cache-db': booleanInput(true),
  'fail-on-findings': booleanInput(true),
  'sarif-file': optionalString(),
  ...toolInputSpec('trivy'),
  ...toolInputSpec('osv-scanner'),
  ...toolInputSpec('syft'),
};

export interface ScanRepoDeps {
  tools?: EnsureOptions;
  upload?: UploadFn;
  now?: Date;
  /** The actions cache the Trivy DB is kept in (default: the runner's). */
  cache?: DbCache;
}

/**
 * Gates a source tree before anything is built: OSV-Scanner (gated from each group's max_severity), a Trivy
 * filesystem scan (gated like scan-layout), and a Syft SBOM uploaded as an artifact.
 */
export async function main(ctx: ActionContext, deps: ScanRepoDeps = {}): Promise<void> {
  const input = parseInputs(inputs, ctx.input);
  const trivyRequest = toolRequest('trivy', input);
  const osvRequest = toolRequest('osv-scanner', input);
  const syftRequest = input.sbom ? toolRequest('syft', input) : undefined;
  const severities = new Set(input.severity as Severity[]);
  const workspace = resolve(ctx.env.GITHUB_WORKSPACE || process.cwd());
  const path = resolve(workspace, input.path ?? '.');
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new UserError(inputProblem('path', `${path} is not a directory`));
  const osvConfig = resolveOsvConfig(input['osv-config'], workspace, path);
  const osvOfflineDb = resolveOsvOfflineDb(input['osv-offline-db'], workspace);
  const ignoreFiles = resolveIgnoreFiles(input.trivyignores, workspace);
  const ignore =
    ignoreFiles.length > 0 ? await loadIgnoreFiles(ignoreFiles, 'trivyignores', deps.now) : IgnoreRules.empty();
  const work = join(ctx.tempDir, 'golden-image-scan-repo');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });

  const { osvGate, osvReport, trivyGate, trivyReport, trivyDbs, sbom } = await scanDirectory(ctx, {
    path,
    work,
    tools: { trivy: trivyRequest, osv: osvRequest, syft: syftRequest, ensure: deps.tools },
    severities,
    osv: {
      config: osvConfig,
      offlineDb: osvOfflineDb,
      blockUnscored: input['block-unscored'],
      blockMalicious: input['block-malicious'],
      blockUncalled: input['block-uncalled'],
    },
    trivy: {
      ignoreUnfixed: input['ignore-unfixed'],
      ignore,
      skipDirs: input['skip-dirs'],
      dbRepository: input['db-repository'],
      javaDbRepository: input['java-db-repository'],
      cacheDb: input['cache-db'],
      cache: deps.cache,
      group: 'Trivy filesystem scan',
    },
    sbom: input.sbom
      ? {
          format: input['sbom-format'],
          artifact: input['artifact-name'] ?? uniqueArtifactName(ctx.env, 'sbom', relative(workspace, path) || '.'),
          upload: deps.upload,
        }
      : undefined,
  });

  // Trivy fs targets are relative to the scanned path; OSV sources are absolute (we pass an absolute path).
  const repoPath = (finding: Finding) => {
    const absolute = isAbsolute(finding.target) ? finding.target : join(path, finding.target);
    return relative(workspace, absolute) || '.';
  };
  const selected = [...(osvGate?.selected ?? []), ...trivyGate.selected];
  annotateFindings(ctx, selected, repoPath);

  const sarifPath = input['sarif-file'] ? resolve(workspace, input['sarif-file']) : join(work, 'scan-repo.sarif');
  await mkdir(dirname(sarifPath), { recursive: true });
  const locate = (finding: Finding) => sarifUri(repoPath(finding));
  const sarif = buildSarif([
    {
      tool: 'OSV-Scanner',
      version: osvRequest.version,
      informationUri: 'https://github.com/google/osv-scanner',
      findings: osvGate?.selected ?? [],
      locate,
    },
    {
      tool: 'Trivy',
      version: trivyRequest.version,
      informationUri: 'https://github.com/aquasecurity/trivy',
      findings: trivyGate.selected,
      locate,
    },
  ]);
  await writeFile(sarifPath, JSON.stringify(sarif));

  const failed = selected.length > 0 && input['fail-on-findings'];
  ctx.output('result', failed ? 'failed' : 'passed');
  ctx.output(
    'findings',
    JSON.stringify({ 'osv-scanner': osvGate?.counts ?? null, trivy: withoutUnscored(trivyGate.counts) }),
  );
  ctx.output('sbom', sbom?.file ?? '');
  ctx.output('sbom-artifact', sbom?.uploaded ? sbom.artifact : '');
  ctx.output('osv-report', osvReport);
  ctx.output('trivy-report', trivyReport);
  ctx.output('sarif', sarifPath);
  ctx.output('db-digest', trivyDbs[0]?.digest ?? '');
  ctx.output('db-ref', trivyDbs[0]?.ref ?? '');
  await ctx.summary(
    repoSummary({
      path: relative(workspace, path) || '.',
      osvGate,
      trivyGate,
      selected,
      ignore,
      severities: [...severities],
      failed,
      sbom,
      repoPath,
      osvOfflineDb,
      blockUncalled: input['block-uncalled'],
    }) + trivyDbSummary(trivyDbs),
  );

  if (failed) {
    throw new UserError(
      `scan-repo: ${selected.length} blocking finding(s) in ${relative(workspace, path) || '.'} (${osvGate?.selected.length ?? 0} from OSV-Scanner, ${trivyGate.selected.length} from Trivy). ` +
        'See the annotations on the lockfiles and the job summary. Nothing should be built from this tree until they are fixed or reviewed and ignored.',
    );
  }
}

function resolveOsvConfig(named: string | undefined, workspace: string, path: string): string | undefined {
  if (named) {
    const file = resolve(workspace, named);
    if (!existsSync(file))
      throw new UserError(inputProblem('osv-config', `${JSON.stringify(named)} does not exist (looked for ${file})`));
    return file;
  }
  const fallback = join(path, 'osv-scanner.toml');
  return existsSync(fallback) ? fallback : undefined;
}
