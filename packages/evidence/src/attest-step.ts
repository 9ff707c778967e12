// attest-evidence's work, so its main() only reads inputs, installs tools and writes outputs: which inputs each
// mode needs, the gate, the predicates of a release / prepared / rescanned digest, the Kyverno policy with the
// evidence rules, and the summary.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ActionContext, inputProblem, md, UserError } from '@golden-image/kit';
import { sha256File } from '@golden-image/oci';
import type { Skopeo } from '@golden-image/oci-registry';
import { type DbCache, IgnoreRules, loadIgnoreFiles, resolveIgnoreFiles, type Severity } from '@golden-image/scanners';
import type { AttachedEvidence, EvidenceItem } from './attach.js';
import type { Attachments } from './attachments.js';
import { readEvidenceDir, writeEvidenceDir } from './evidence-dir.js';
import { EVIDENCE, type EvidenceKind } from './kinds.js';
import { policyKindOf, requireEvidenceInPolicy } from './kyverno-attestations.js';
import { evidenceItems, type PredicateContext, prepareEvidence } from './prepare.js';
import type { EvidenceRequirement } from './requirement.js';
import { rescanDigest } from './rescan.js';
import type { GateOptions } from './scan-report.js';
import { dbRecords, scanReportDbs, type TrivyDbRecord } from './trivy-db.js';
import { type FindingCounts, type GateSettings, sumCounts } from './vuln-predicate.js';

export const ATTEST_MODES = ['release', 'prepare', 'attach', 'rescan'] as const;
export type AttestMode = (typeof ATTEST_MODES)[number];

/** Which inputs each mode needs, and which it must not be given. */
const NEEDS: Record<AttestMode, { required: string[]; refused: string[] }> = {
  release: { required: ['layout-path', 'report'], refused: ['evidence-dir'] },
  prepare: { required: ['layout-path', 'report'], refused: [] },
  attach: { required: ['evidence-dir'], refused: ['layout-path', 'report'] },
  rescan: { required: [], refused: ['layout-path', 'report', 'evidence-dir'] },
};

/** Every input the mode needs but was not given, and every one it was given but does not use, in one error. */
export function checkModeInputs(mode: AttestMode, input: Record<string, unknown>): void {
  const { required, refused } = NEEDS[mode];
  const problems = [
    ...required.filter((name) => !input[name]).map((name) => inputProblem(name, `is required in mode ${mode}`)),
    ...refused
      .filter((name) => input[name])
      .map((name) => inputProblem(name, `is not used in mode ${mode}; leave it empty`)),
  ];
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}

/** The gate of the scan results (ignore files applied as scan-layout applies them) and how it is recorded. */
export async function evidenceGate(options: {
  severity: Severity[];
  ignoreUnfixed: boolean;
  trivyignores: string[];
  workspace: string;
  now?: Date;
}): Promise<{ gate: GateOptions; settings: GateSettings }> {
  const files = resolveIgnoreFiles(options.trivyignores, options.workspace);
  const ignore = files.length > 0 ? await loadIgnoreFiles(files, 'trivyignores', options.now) : IgnoreRules.empty();
  return {
    gate: { severity: options.severity, ignoreUnfixed: options.ignoreUnfixed, ignore },
    settings: {
      severity: options.severity,
      ignoreUnfixed: options.ignoreUnfixed,
      ignoreFiles: await Promise.all(
        files.map(async (path) => ({ path, sha256: (await sha256File(path)).replace(/^sha256:/, '') })),
      ),
    },
  };
}

/** The GitHub Actions run that makes the evidence, when the job runs on GitHub. */
export function runOf(env: NodeJS.ProcessEnv): PredicateContext['run'] {
  if (!env.GITHUB_RUN_ID || !env.GITHUB_REPOSITORY) return undefined;
  return {
    uri: `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`,
    eventId: `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
  };
}

/**
 * The DBs scan-layout's report names (by digest), recorded in the scan result; a warning when it names none (a
 * report of an older scan-layout).
 */
export async function reportedTrivyDbs(ctx: ActionContext, report: string) {
  const dbs = await scanReportDbs(report);
  if (!dbs) {
    ctx.warning(
      `The report ${report} names no Trivy DB (a scan-layout older than this attest-evidence): the scan result records no DB digest.`,
    );
  }
  return dbs ?? {};
}

/** What prepared scan results counted (the index's, or the sum of the platforms' when there is no index). */
export function findingsOf(items: EvidenceItem[]): FindingCounts {
  const scans = items.filter((item) => item.kind === 'vuln');
  const top = scans.find((item) => item.platform === 'index') ? scans.filter((i) => i.platform === 'index') : scans;
  const total = sumCounts([]);
  for (const item of top) {
    const counts = (item.predicate as { invocation?: { parameters?: { findings?: Record<string, number> } } })
      ?.invocation?.parameters?.findings;
    for (const severity of Object.keys(total) as Severity[]) total[severity] += Number(counts?.[severity] ?? 0);
  }
  return total;
}

export interface CollectOptions {
  mode: AttestMode;
  kinds: EvidenceKind[];
  gate: GateOptions;
  context: PredicateContext;
  work: string;
  layoutPath?: string;
  report?: string;
  evidenceDir?: string;
  syft?: string;
  /** rescan: the registry the digest is copied from, Trivy, and the DB settings. */
  rescan?: {
    skopeo: Skopeo;
    trivy: string;
    dbRepository: string[];
    javaDbRepository: string[];
    cacheDb: boolean;
    cache?: DbCache;
  };
}

/**
 * The predicates to attach, and what the scan results counted: made from the layout and scan-layout's report
 * (release, prepare), read from prepare's evidence directory (attach), or from a fresh scan of the released digest
 * copied from the registry (rescan).
 */
export async function collectEvidence(
  ctx: ActionContext,
  options: CollectOptions,
): Promise<{ items: EvidenceItem[]; findings: FindingCounts }> {
  const { context } = options;
  if (options.mode === 'rescan') {
    const r = options.rescan as NonNullable<CollectOptions['rescan']>;
    const rescan = await rescanDigest(ctx, {
      image: context.image,
      digest: context.digest,
      skopeo: r.skopeo,
      trivy: r.trivy,
      work: options.work,
      gate: options.gate,
      dbRepository: r.dbRepository,
      javaDbRepository: r.javaDbRepository,
      cacheDb: r.cacheDb,
      cache: r.cache,
    });
    Object.assign(context, dbRecords(rescan.dbs));
    context.times = { startedOn: rescan.startedOn, finishedOn: rescan.finishedOn };
    return {
      items: evidenceItems(options.kinds, rescan.platforms, rescan.scans, new Map(), context),
      findings: sumCounts(rescan.scans.map((scan) => scan.counts)),
    };
  }
  if (options.mode === 'attach') {
    const items = await readEvidenceDir(options.evidenceDir as string, context.digest);
    return { items, findings: findingsOf(items) };
  }
  Object.assign(context, await reportedTrivyDbs(ctx, options.report as string));
  const prepared = await prepareEvidence(ctx, {
    layoutPath: options.layoutPath as string,
    report: options.report as string,
    kinds: options.kinds,
    gate: options.gate,
    syft: options.syft,
    work: options.work,
    context,
  });
  return { items: prepared.items, findings: sumCounts(prepared.scans.map((scan) => scan.counts)) };
}

/**
 * The vulnerability DB the scan results record (invocation.parameters.db of the index's, else the first), as
 * attached: what attest-evidence reports as db-digest in every mode, attach included.
 */
export function recordedTrivyDb(items: EvidenceItem[]): TrivyDbRecord | undefined {
  const scans = items.filter((item) => item.kind === 'vuln');
  const item = scans.find((i) => i.platform === 'index') ?? scans[0];
  const db = (item?.predicate as { invocation?: { parameters?: { db?: unknown } } } | undefined)?.invocation?.parameters
    ?.db;
  if (!db || typeof db !== 'object') return undefined;
  const { repository, digest } = db as Partial<TrivyDbRecord>;
  return typeof repository === 'string' && typeof digest === 'string' ? (db as TrivyDbRecord) : undefined;
}

/** The attestations output: what was attached, by digest and platform. */
export function attestationsOutput(attached: AttachedEvidence[]): string {
  return JSON.stringify(
    attached.map(({ digest, platform, kind, predicateType }) => ({ digest, platform, type: kind, predicateType })),
  );
}

/** The rescan's verdict: a UserError when the fresh scan crosses the gate (its result is attached by then). */
export function checkRescan(image: string, digest: string, severity: Severity[], findings: FindingCounts): void {
  const found = severity
    .filter((s) => findings[s] > 0)
    .map((s) => `${findings[s]} ${s}`)
    .join(', ');
  if (!found) return;
  throw new UserError(
    `The rescan of ${image}@${digest} found ${found} (gate ${severity.join(',')}). The fresh scan ` +
      'result is attached, so admission policies and promotions that require a clean scan now refuse this ' +
      'digest. Nothing was rebuilt and no tag moved: release a fixed image, or review the findings in an ignore file.',
  );
}

/** sign-digest's policy file (the kyverno-policy input), read before anything runs. */
export async function readKyvernoPolicy(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      inputProblem(
        'kyverno-policy',
        `${file} cannot be read (${(error as Error).message}); pass the kyverno-policy output of sign-digest`,
      ),
    );
  }
}

/** That policy with the evidence rules added, written to `file` (default under the step's temp directory). */
export async function writeKyvernoPolicy(
  ctx: ActionContext,
  file: string | undefined,
  policy: string,
  requirement: EvidenceRequirement,
): Promise<string> {
  const kind = (policyKindOf(policy) ?? 'ClusterPolicy').toLowerCase();
  const target = file ?? join(ctx.tempDir, 'attest-evidence', `kyverno-${kind}.yaml`);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, requireEvidenceInPolicy(policy, requirement));
  return target;
}

/** prepare: the predicates written to a fresh evidence directory for a later attach. */
export async function writePrepared(ctx: ActionContext, digest: string, items: EvidenceItem[]): Promise<string> {
  const dir = join(ctx.tempDir, 'golden-image-evidence');
  await rm(dir, { recursive: true, force: true });
  await writeEvidenceDir(dir, digest, items);
  return dir;
}

export interface AttestSummary {
  mode: AttestMode;
  image: string;
  digest: string;
  /** The tag a rescan read the digest from, once. */
  resolvedFrom?: string;
  bundleFormat: string;
  attached: AttachedEvidence[];
  where: Attachments;
  cosignVersion: string;
  verifyCommand: string;
  provenance?: string;
  findings: FindingCounts;
  /** The vulnerability DB the scan result records. */
  db?: TrivyDbRecord;
  /** The requirement added to a Kyverno policy, when one was given. */
  requirement?: EvidenceRequirement;
}

export function attestSummary(s: AttestSummary): string {
  const facts: [string, string][] = [
    ['Digest', md.code(`${s.image}@${s.digest}`)],
    ...(s.resolvedFrom
      ? ([
          [
            'Resolved from',
            `${md.code(s.resolvedFrom)}, read once at the start; the rescan, the attestation and its verification use the digest`,
          ],
        ] as [string, string][])
      : []),
    [
      'Stored as',
      `${s.where.mechanism}: ${md.code(s.where.location)} (${s.bundleFormat} format, cosign ${s.cosignVersion})`,
    ],
    [
      'Findings (after ignore files)',
      Object.entries(s.findings)
        .map(([severity, n]) => `${n} ${severity}`)
        .join(', '),
    ],
  ];
  if (s.db) {
    facts.push([
      'Trivy DB',
      `${md.code(`${s.db.repository}@${s.db.digest}`)} (${s.db.source === 'fallback' ? '**the last cached copy: no registry confirmed this digest when it was scanned**' : s.db.source}${s.db.UpdatedAt ? `, updated ${s.db.UpdatedAt}` : ''})`,
    ]);
  }
  if (s.provenance) facts.push(['GitHub build provenance', s.provenance]);
  if (s.requirement) {
    facts.push([
      'The policy requires',
      `${s.requirement.kinds.map((k) => EVIDENCE[k].label).join(' and ')}, signed like the image; scanned within ${s.requirement.maxScanAge}; no finding at or above ${s.requirement.blockSeverity}`,
    ]);
  }
  return [
    md.heading(s.mode === 'rescan' ? 'attest-evidence (rescan)' : 'attest-evidence'),
    md.facts(facts),
    '',
    md.table(
      ['subject', 'digest', 'attestation', 'verified'],
      s.attached.map((a) => [
        a.platform,
        md.code(a.digest),
        `${EVIDENCE[a.kind].label} (${a.predicateType})`,
        a.verified ? 'yes' : 'no (verify: false)',
      ]),
    ),
    '',
    ...(s.verifyCommand ? [md.heading('Verify it yourself', 3), md.codeBlock(s.verifyCommand, 'sh')] : []),
  ].join('\n');
}
