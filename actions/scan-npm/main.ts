import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type ActionContext,
  booleanInput,
  checkedString,
  enumInput,
  integerInput,
  listInput,
  maskSecretInputs,
  optionalCheckedString,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import {
  checkManifest,
  dependencyTree,
  integrityProblem,
  npmScanSummary,
  PUBLIC_REGISTRY,
  pathGlob,
  refused,
  registryProblem,
  registryUrl,
  reviewContents,
  type SecretFinding,
  trivySecrets,
  unpackTarball,
  verifyTarball,
} from '@golden-image/npm';
import {
  type DbCache,
  IgnoreRules,
  resolveOsvOfflineDb,
  SBOM_FORMATS,
  type Severity,
  scanDirectory,
  severityInput,
  trivyDbSummary,
  type UploadFn,
  uniqueArtifactName,
  withoutUnscored,
} from '@golden-image/scanners';
import { type EnsureOptions, toolInputSpec, toolRequest } from '@golden-image/tools';

export const inputs = {
  'tarball-path': checkedString(() => undefined, 'the tarball-path output of pack-npm'),
  integrity: checkedString(integrityProblem, 'the integrity output of pack-npm'),
  severity: severityInput(),
  'ignore-unfixed': booleanInput(false),
  'block-unscored': booleanInput(true),
  'block-malicious': booleanInput(true),
  deny: listInput({}),
  allow: listInput({}),
  'allow-install-scripts': booleanInput(false),
  registry: optionalCheckedString(registryProblem),
  token: optionalString(),
  'max-files': integerInput(20_000, 1, 1_000_000),
  'max-unpacked-mb': integerInput(512, 1, 16_384),
  'osv-offline-db': optionalString(),
  'db-repository': listInput({}),
  'cache-db': booleanInput(true),
  sbom: booleanInput(true),
  'sbom-format': enumInput(SBOM_FORMATS, 'cyclonedx-json'),
  'artifact-name': optionalString(),
  'fail-on-findings': booleanInput(true),
  ...toolInputSpec('trivy'),
  ...toolInputSpec('osv-scanner'),
  ...toolInputSpec('syft'),
};

export interface ScanNpmDeps {
  tools?: EnsureOptions;
  upload?: UploadFn;
  now?: Date;
  npm?: string;
  /** The actions cache the Trivy DB is kept in (default: the runner's). */
  cache?: DbCache;
}

/**
 * Scans the tarball itself, proven by its integrity: its files (safe unpacking, a contents policy, Trivy's secret
 * rules), its package.json (install hooks, entry points), and the dependencies a consumer would install (the
 * shipped shrinkwrap or a lockfile resolved without dev dependencies) with OSV-Scanner and Trivy; Syft's SBOM.
 */
export async function main(ctx: ActionContext, deps: ScanNpmDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'token');
  const input = parseInputs(inputs, ctx.input);
  const trivyRequest = toolRequest('trivy', input);
  const osvRequest = toolRequest('osv-scanner', input);
  const syftRequest = input.sbom ? toolRequest('syft', input) : undefined;
  const severities = new Set(input.severity as Severity[]);
  const workspace = resolve(ctx.env.GITHUB_WORKSPACE || process.cwd());
  const tarball = resolve(workspace, input['tarball-path']);
  const osvOfflineDb = resolveOsvOfflineDb(input['osv-offline-db'], workspace);
  const registry = registryUrl(input.registry ?? PUBLIC_REGISTRY);
  const limits = { maxEntries: input['max-files'], maxUnpackedBytes: input['max-unpacked-mb'] * 1024 * 1024 };

  // Nothing reads the tarball before it is proven to be the one handed on.
  await verifyTarball(tarball, input.integrity);
  const work = join(ctx.tempDir, 'golden-image-scan-npm');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const unpacked = join(work, 'package');
  const listing = await ctx.group('Unpack the tarball', () => unpackTarball(tarball, unpacked, limits));
  const manifest = await readManifest(join(unpacked, 'package.json'), tarball);
  const id = `${String(manifest.name)}@${String(manifest.version)}`;
  const paths = listing.files.map((file) => file.path);
  const contents = reviewContents(paths, input.deny, input.allow);
  const manifestFindings = checkManifest(manifest, new Set(paths), {
    allowInstallScripts: input['allow-install-scripts'],
  });
  const tree = await ctx.group('Resolve the dependencies a consumer installs', () =>
    dependencyTree(ctx, {
      unpacked,
      work,
      registry,
      ...(input.token ? { token: input.token } : {}),
      ...(deps.npm ? { npm: deps.npm } : {}),
    }),
  );

  const secretReport = join(work, 'trivy-secrets.json');
  let secrets: SecretFinding[] = [];
  const { osvGate, osvReport, trivyGate, trivyReport, trivyDbs, sbom } = await scanDirectory(ctx, {
    path: tree.dir,
    work,
    tools: { trivy: trivyRequest, osv: osvRequest, syft: syftRequest, ensure: deps.tools },
    severities,
    osv: {
      offlineDb: osvOfflineDb,
      blockUnscored: input['block-unscored'],
      blockMalicious: input['block-malicious'],
      blockUncalled: true,
    },
    trivy: {
      ignoreUnfixed: input['ignore-unfixed'],
      ignore: IgnoreRules.empty(),
      skipDirs: [],
      dbRepository: input['db-repository'],
      cacheDb: input['cache-db'],
      cache: deps.cache,
      group: 'Trivy: the dependencies',
      inSession: async (session) => {
        secrets = await ctx.group('Trivy: secrets in the tarball', async () =>
          (await trivySecrets(ctx, session, unpacked, secretReport)).filter(
            (secret) => !input.allow.some((glob) => pathGlob(glob, secret.path)),
          ),
        );
      },
    },
    sbom: input.sbom
      ? {
          format: input['sbom-format'],
          artifact: input['artifact-name'] ?? uniqueArtifactName(ctx.env, 'sbom-npm', id),
          upload: deps.upload,
        }
      : undefined,
  });

  // The bytes handed on are the bytes scanned: checked again now that every scanner has run.
  const after = await verifyTarball(tarball, input.integrity);
  const selected = [...(osvGate?.selected ?? []), ...trivyGate.selected];
  const blockingManifest = manifestFindings.filter((finding) => finding.blocking);
  const blocking = selected.length + secrets.length + contents.length + blockingManifest.length;
  const failed = blocking > 0;
  for (const secret of secrets) {
    ctx.error(`${secret.ruleId}: ${secret.title} (${secret.severity})`, {
      file: `package/${secret.path}`,
      ...(secret.line ? { line: secret.line } : {}),
      title: 'secret in the npm tarball',
    });
  }
  for (const finding of contents) ctx.error(`package/${finding.path}: ${finding.rule}`, { title: 'contents policy' });
  for (const finding of manifestFindings) {
    const report = finding.blocking ? ctx.error.bind(ctx) : ctx.warning.bind(ctx);
    report(finding.detail, { title: `package.json: ${finding.kind}` });
  }

  ctx.output('integrity', after.integrity);
  ctx.output('result', failed ? 'failed' : 'passed');
  ctx.output(
    'findings',
    JSON.stringify({
      'osv-scanner': osvGate?.counts ?? null,
      trivy: withoutUnscored(trivyGate.counts),
      secrets: secrets.length,
      contents: contents.length,
      manifest: blockingManifest.length,
    }),
  );
  ctx.output('sbom', sbom?.file ?? '');
  ctx.output('sbom-artifact', sbom?.uploaded ? sbom.artifact : '');
  ctx.output('osv-report', osvReport);
  ctx.output('trivy-report', trivyReport);
  ctx.output('secret-report', secretReport);
  ctx.output('dependencies', tree.source);
  ctx.output('db-digest', trivyDbs[0]?.digest ?? '');
  ctx.output('db-ref', trivyDbs[0]?.ref ?? '');
  await ctx.summary(
    npmScanSummary({
      id,
      integrity: after.integrity,
      files: listing.files.length,
      unpackedBytes: listing.unpackedBytes,
      tree,
      registry: registry.href,
      osvGate,
      trivyGate,
      selected,
      secrets,
      contents,
      manifest: manifestFindings,
      severities: [...severities],
      failed,
      ...(sbom ? { sbom } : {}),
    }) + trivyDbSummary(trivyDbs),
  );
  if (failed && input['fail-on-findings']) {
    throw new UserError(
      `scan-npm: ${id} is blocked: ${selected.length} vulnerability finding(s), ${secrets.length} secret(s), ` +
        `${contents.length} refused file(s), ${blockingManifest.length} package.json problem(s). See the job summary. ` +
        'Nothing should publish this tarball until they are fixed or reviewed (allow, allow-install-scripts).',
    );
  }
}

async function readManifest(file: string, tarball: string): Promise<Record<string, unknown>> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw refused(tarball, 'its package.json is not a JSON object');
}
