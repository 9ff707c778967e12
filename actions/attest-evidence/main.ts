import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type AttachedEvidence,
  type Attachments,
  type AttestProvenance,
  attachEvidence,
  attachmentsOf,
  checkEvidenceCovers,
  EVIDENCE,
  type EvidenceItem,
  type EvidenceKind,
  type EvidenceRequirement,
  evidenceRequirementInputs,
  type GateSettings,
  githubProvenance,
  isEvidenceKind,
  evidenceItems as itemsOf,
  jobTrivyCacheDir,
  type PredicateContext,
  prepareEvidence,
  pushedPlatforms,
  readEvidenceDir,
  requireEvidenceInPolicy,
  requirementOf,
  rescanDigest,
  sumCounts,
  trivyDbMetadata,
  verifyAttestationArgs,
  writeEvidenceDir,
} from '@golden-image/evidence';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  maskSecretInputs,
  md,
  optionalCheckedString,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import { digestProblem, imageInput, sha256File, tagProblem, tagRef } from '@golden-image/oci';
import { registryInputSpec, Skopeo, withAuthFile } from '@golden-image/oci-registry';
import { IgnoreRules, loadIgnoreFiles, resolveIgnoreFiles, type Severity, severityInput } from '@golden-image/scanners';
import {
  type CosignVersion,
  decodeJwtClaims,
  detectCosignVersion,
  fetchGithubIdToken,
  type IdTokenFetcher,
  identityFromClaims,
  identityInput,
  issuerInput,
  keyInput,
  publicKeyOf,
  registryFlags,
  requireGithubOidc,
  SIGSTORE_AUDIENCE,
  type Signer,
  shellCommand,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
  withCosignAuth,
} from '@golden-image/signing';
import { ensureTool, toolInputSpec, toolRequest } from '@golden-image/tools';

const MODES = ['release', 'prepare', 'attach', 'rescan'] as const;

export const inputs = {
  mode: enumInput(MODES, 'release'),
  image: imageInput(),
  digest: optionalCheckedString(digestProblem),
  tag: optionalCheckedString(tagProblem),
  'layout-path': optionalString(),
  report: optionalString(),
  'evidence-dir': optionalString(),
  attestations: listInput({
    check: (kind) => (isEvidenceKind(kind) ? undefined : `must list sbom and/or vuln, got ${JSON.stringify(kind)}`),
    defaultValue: ['sbom', 'vuln'],
  }),
  severity: severityInput(),
  'ignore-unfixed': booleanInput(false),
  trivyignores: listInput({}),
  'db-repository': listInput({}),
  'java-db-repository': listInput({}),
  'cache-db': booleanInput(true),
  'bundle-format': enumInput(['legacy', 'new'] as const, 'legacy'),
  key: keyInput(),
  verify: booleanInput(true),
  'certificate-identity': identityInput(),
  'certificate-oidc-issuer': issuerInput(),
  ...sourceInputSpec(),
  ...sigstoreInputSpec(),
  'kyverno-policy': optionalString(),
  'kyverno-policy-file': optionalString(),
  ...evidenceRequirementInputs(['sbom', 'vuln']),
  'github-provenance': enumInput(['auto', 'true', 'false'] as const, 'auto'),
  'github-token': optionalString(),
  ...registryInputSpec(),
  ...toolInputSpec('cosign'),
  ...toolInputSpec('syft'),
  ...toolInputSpec('trivy'),
};

/** The inputs once the digest is known: given, or (rescan) read from the tag once, before anything else. */
type Input = Omit<ReturnType<typeof parseInputs<typeof inputs>>, 'digest'> & { digest: string };

export interface AttestEvidenceDeps {
  fetchIdToken?: IdTokenFetcher;
  attestProvenance?: AttestProvenance;
  now?: Date;
}

/** Which inputs each mode needs, and which it must not be given. */
const NEEDS: Record<(typeof MODES)[number], { required: (keyof Input)[]; refused: (keyof Input)[] }> = {
  release: { required: ['layout-path', 'report'], refused: ['evidence-dir'] },
  prepare: { required: ['layout-path', 'report'], refused: [] },
  attach: { required: ['evidence-dir'], refused: ['layout-path', 'report'] },
  rescan: { required: [], refused: ['layout-path', 'report', 'evidence-dir'] },
};

/**
 * Attaches the SBOM and the scan result of a pushed digest (the index and each platform manifest) as in-toto
 * attestations signed like the image, by digest only. prepare and attach split that across two jobs (the build
 * job has the layout, the signing job the OIDC token); rescan scans the released digest again from the registry,
 * attaches the fresh scan result, and fails when it crosses the gate. Nothing is rebuilt and no tag moves.
 */
export async function main(ctx: ActionContext, deps: AttestEvidenceDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'password', 'github-token');
  const parsed = parseInputs(inputs, ctx.input);
  const input: Input = { ...parsed, digest: parsed.digest ?? '' };
  checkDigestOrTag(parsed);
  checkModeInputs(input);
  const signs = input.mode !== 'prepare';
  if (input.key) {
    const keyless = [
      'certificate-identity',
      'certificate-oidc-issuer',
      'source-repository',
      'source-ref',
      'source-trigger',
      'fulcio-url',
    ] as const;
    const misplaced = keyless.filter((name) => input[name]);
    if (misplaced.length > 0) {
      throw new UserError(
        inputProblem('key', `key-based attestations are verified with the key; leave ${misplaced.join(', ')} empty`),
      );
    }
    if (ctx.env.COSIGN_PASSWORD) ctx.secret(ctx.env.COSIGN_PASSWORD);
  } else if (signs) {
    requireGithubOidc(ctx.env);
  }
  const kinds: EvidenceKind[] = input.mode === 'rescan' ? ['vuln'] : input.attestations.filter(isEvidenceKind);
  const severity = input.severity as Severity[];
  const workspace = ctx.env.GITHUB_WORKSPACE || process.cwd();
  const ignoreFiles = resolveIgnoreFiles(input.trivyignores, workspace);
  const ignore =
    ignoreFiles.length > 0 ? await loadIgnoreFiles(ignoreFiles, 'trivyignores', deps.now) : IgnoreRules.empty();
  const gate = { severity, ignoreUnfixed: input['ignore-unfixed'], ignore };
  const gateSettings: GateSettings = {
    severity,
    ignoreUnfixed: input['ignore-unfixed'],
    ignoreFiles: await Promise.all(
      ignoreFiles.map(async (path) => ({ path, sha256: (await sha256File(path)).replace(/^sha256:/, '') })),
    ),
  };
  const policyIn = input['kyverno-policy'] ? await readPolicy(input['kyverno-policy']) : undefined;
  // A scheduled rescan may name the release by tag: it is read once, here, and everything after goes by digest.
  if (!parsed.digest && input.tag) input.digest = await digestOfTag(ctx, input, input.tag);
  const work = join(ctx.tempDir, 'golden-image-attest-evidence', input.mode);
  await rm(work, { recursive: true, force: true });
  const context: PredicateContext = {
    image: input.image,
    digest: input.digest,
    gate: gateSettings,
    dbRepositories: input['db-repository'],
    mode: input.mode === 'rescan' ? 'rescan' : 'release',
    run: runOf(ctx.env),
  };

  if (input.mode === 'prepare') {
    const syft = kinds.includes('sbom') ? await ensureTool(ctx, toolRequest('syft', input)) : undefined;
    context.db = await jobTrivyDb(ctx);
    const { items } = await prepareEvidence(ctx, {
      layoutPath: input['layout-path'] as string,
      report: input.report as string,
      kinds,
      gate,
      syft,
      work,
      context,
    });
    const dir = join(ctx.tempDir, 'golden-image-evidence');
    await rm(dir, { recursive: true, force: true });
    await writeEvidenceDir(dir, input.digest, items);
    ctx.output('digest', input.digest);
    ctx.output('evidence-dir', dir);
    ctx.info(`${items.length} predicates of ${input.digest} written to ${dir}; attach them with mode: attach.`);
    return;
  }

  const cosign = await ensureTool(ctx, toolRequest('cosign', input));
  const syft =
    input.mode === 'release' && kinds.includes('sbom') ? await ensureTool(ctx, toolRequest('syft', input)) : undefined;
  const trivy = input.mode === 'rescan' ? await ensureTool(ctx, toolRequest('trivy', input)) : undefined;

  await withAuthFile(ctx, input.image, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, {
      tlsVerify: input['tls-verify'],
      authFile,
      env: ctx.env,
      onRetry: (message) => ctx.info(`Retrying: ${message}`),
    });
    await skopeo.version();
    // cosign reads registry credentials only from a docker config: the private one the signing step uses too.
    await withCosignAuth(ctx, authFile, async (env) => {
      const version = await detectCosignVersion({ ...ctx, env }, cosign);
      if (input['bundle-format'] === 'new' && version.major === 2 && version.minor < 6) {
        throw new UserError(
          inputProblem('bundle-format', `"new" needs cosign v2.6 or v3, but cosign ${version.text} is in use`),
        );
      }
      const registryPlatforms = await pushedPlatforms(skopeo, input.image, input.digest);
      const verifyAs = input.verify ? await signerFor(ctx, cosign, input, deps) : undefined;

      let items: EvidenceItem[];
      let findings = sumCounts([]);
      if (input.mode === 'rescan') {
        const rescan = await rescanDigest(ctx, {
          image: input.image,
          digest: input.digest,
          skopeo,
          trivy: trivy as string,
          work,
          gate,
          dbRepository: input['db-repository'],
          javaDbRepository: input['java-db-repository'],
          cacheDb: input['cache-db'],
          now: deps.now,
        });
        context.db = rescan.db;
        context.times = { startedOn: rescan.startedOn, finishedOn: rescan.finishedOn };
        items = itemsOf(kinds, rescan.platforms, rescan.scans, new Map(), context);
        findings = sumCounts(rescan.scans.map((scan) => scan.counts));
      } else if (input.mode === 'attach') {
        items = await readEvidenceDir(input['evidence-dir'] as string, input.digest);
        findings = findingsOf(items);
      } else {
        context.db = await jobTrivyDb(ctx);
        const prepared = await prepareEvidence(ctx, {
          layoutPath: input['layout-path'] as string,
          report: input.report as string,
          kinds,
          gate,
          syft,
          work,
          context,
        });
        items = prepared.items;
        findings = sumCounts(prepared.scans.map((scan) => scan.counts));
      }
      checkEvidenceCovers(items, input.digest, registryPlatforms);

      const attached = await attachEvidence(ctx, cosign, {
        image: input.image,
        items,
        version,
        bundleFormat: input['bundle-format'],
        key: input.key,
        verifyAs,
        instance: sigstoreInstanceOf(input),
        registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
        env,
        work: join(work, 'predicates'),
      });
      const where = await attachmentsOf(skopeo, input.image, input.digest, input['bundle-format']);
      const provenance =
        input.mode === 'rescan'
          ? undefined
          : await githubProvenance(ctx, input['github-provenance'], {
              image: input.image,
              digest: input.digest,
              token: input['github-token'],
              attest: deps.attestProvenance,
            });
      const requirement = requirementOf(input);
      const policyFile = policyIn === undefined ? undefined : await writePolicy(ctx, input, policyIn, requirement);
      const verifyCommand = verifyAs ? commandFor(input, verifyAs, version) : '';
      const blocking = severity.reduce((sum, s) => sum + findings[s], 0);

      ctx.output('digest', input.digest);
      ctx.output(
        'attestations',
        JSON.stringify(
          attached.map(({ digest, platform, kind, predicateType }) => ({
            digest,
            platform,
            type: kind,
            predicateType,
          })),
        ),
      );
      ctx.output('mechanism', where.mechanism);
      ctx.output('location', where.location);
      ctx.output('scan-result', blocking === 0 ? 'passed' : 'failed');
      ctx.output('findings', JSON.stringify(findings));
      ctx.output('verify-command', verifyCommand);
      ctx.output('kyverno-policy', policyFile ?? '');
      ctx.output('github-provenance', provenance?.written ? 'written' : 'none');
      await ctx.summary(
        summary(input, attached, where, version.text, verifyCommand, provenance?.note, findings, requirement),
      );

      if (input.mode === 'rescan' && blocking > 0) {
        const found = severity
          .filter((s) => findings[s] > 0)
          .map((s) => `${findings[s]} ${s}`)
          .join(', ');
        throw new UserError(
          `The rescan of ${input.image}@${input.digest} found ${found} (gate ${severity.join(',')}). The fresh scan ` +
            'result is attached, so admission policies and promotions that require a clean scan now refuse this ' +
            'digest. Nothing was rebuilt and no tag moved: release a fixed image, or review the findings in an ignore file.',
        );
      }
    });
  });
}

function checkDigestOrTag(input: { mode: string; digest?: string; tag?: string }): void {
  if (input.tag && input.mode !== 'rescan')
    throw new UserError(
      inputProblem('tag', `is for mode rescan only; mode ${input.mode} takes the digest of the step before (digest)`),
    );
  if (input.tag && input.digest)
    throw new UserError(
      inputProblem('tag', 'give digest or tag, not both: the rescan reads the tag once for its digest'),
    );
  if (!input.digest && !input.tag)
    throw new UserError(
      inputProblem(
        'digest',
        input.mode === 'rescan'
          ? 'is required: the released digest, for example sha256:2c26b46b…, or give tag (for example latest) to rescan the digest it names'
          : 'is required: the digest output of the step before, for example sha256:2c26b46b…',
      ),
    );
}

/** The digest IMAGE:TAG names now, read once; a missing tag is the caller's mistake. */
async function digestOfTag(ctx: ActionContext, input: Input, tag: string): Promise<string> {
  const ref = tagRef(input.image, tag);
  const digest = await withAuthFile(ctx, input.image, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, { tlsVerify: input['tls-verify'], authFile, env: ctx.env });
    await skopeo.version();
    return skopeo.digestOf(ref);
  });
  if (!digest) throw new UserError(inputProblem('tag', `${ref} does not exist in the registry; nothing to rescan`));
  ctx.info(`${ref} names ${digest}: rescanning ${input.image}@${digest} (the tag is not read again).`);
  return digest;
}

function checkModeInputs(input: Input): void {
  const { required, refused } = NEEDS[input.mode];
  const problems = [
    ...required.filter((name) => !input[name]).map((name) => inputProblem(name, `is required in mode ${input.mode}`)),
    ...refused
      .filter((name) => input[name])
      .map((name) => inputProblem(name, `is not used in mode ${input.mode}; leave it empty`)),
  ];
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}

async function jobTrivyDb(ctx: ActionContext) {
  const db = await trivyDbMetadata(jobTrivyCacheDir(ctx.tempDir));
  if (!db) {
    ctx.warning(
      "The Trivy DB of scan-layout was not found in this job's RUNNER_TEMP: the scan result records no DB time. Run attest-evidence (release or prepare) in the job that ran scan-layout.",
    );
  }
  return db;
}

function runOf(env: NodeJS.ProcessEnv): PredicateContext['run'] {
  if (!env.GITHUB_RUN_ID || !env.GITHUB_REPOSITORY) return undefined;
  return {
    uri: `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`,
    eventId: `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`,
  };
}

/** What prepared scan results counted (the index's, or the sum of the platforms' when there is no index). */
function findingsOf(items: EvidenceItem[]) {
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

async function readPolicy(file: string): Promise<string> {
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

async function writePolicy(ctx: ActionContext, input: Input, policy: string, requirement: EvidenceRequirement) {
  const file = input['kyverno-policy-file'] ?? join(ctx.tempDir, 'attest-evidence', 'kyverno-clusterpolicy.yaml');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, requireEvidenceInPolicy(policy, requirement));
  return file;
}

/** Who each attestation must verify as: the key's public half, or the keyless identity bound to the source repository. */
async function signerFor(ctx: ActionContext, cosign: string, input: Input, deps: AttestEvidenceDeps): Promise<Signer> {
  if (input.key) return { key: (await publicKeyOf(ctx, cosign, input.key)).verifyKey };
  let identity = input['certificate-identity'];
  let issuer = input['certificate-oidc-issuer'];
  let repository = input['source-repository'];
  if (!identity || !issuer || !repository) {
    const token = await (deps.fetchIdToken ?? fetchGithubIdToken)(ctx.env, SIGSTORE_AUDIENCE);
    ctx.secret(token);
    const predicted = identityFromClaims(decodeJwtClaims(token));
    identity ??= predicted.identity;
    issuer ??= predicted.issuer;
    repository ??= predicted.repository ?? ctx.env.GITHUB_REPOSITORY;
  }
  const source = Object.fromEntries(
    Object.entries({ repository, ref: input['source-ref'], trigger: input['source-trigger'] }).filter(([, v]) => v),
  );
  return { identity, issuer, ...(Object.keys(source).length > 0 ? { source } : {}) };
}

function commandFor(input: Input, signer: Signer, version: CosignVersion): string {
  return shellCommand([
    'cosign',
    ...verifyAttestationArgs({
      imageRef: `${input.image}@${input.digest}`,
      kind: 'vuln',
      signer,
      version,
      bundleFormat: input['bundle-format'],
      instance: sigstoreInstanceOf(input),
      registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
    }),
  ]);
}

function summary(
  input: Input,
  attached: AttachedEvidence[],
  where: Attachments,
  cosignVersion: string,
  verifyCommand: string,
  provenance: string | undefined,
  findings: Record<Severity, number>,
  requirement: EvidenceRequirement,
): string {
  const facts: [string, string][] = [
    ['Digest', md.code(`${input.image}@${input.digest}`)],
    ...(input.tag
      ? ([
          [
            'Resolved from',
            `${md.code(`${input.image}:${input.tag}`)}, read once at the start; the rescan, the attestation and its verification use the digest`,
          ],
        ] as [string, string][])
      : []),
    [
      'Stored as',
      `${where.mechanism}: ${md.code(where.location)} (${input['bundle-format']} format, cosign ${cosignVersion})`,
    ],
    [
      'Findings (after ignore files)',
      Object.entries(findings)
        .map(([s, n]) => `${n} ${s}`)
        .join(', '),
    ],
  ];
  if (provenance) facts.push(['GitHub build provenance', provenance]);
  if (input['kyverno-policy']) {
    facts.push([
      'The policy requires',
      `${requirement.kinds.map((k) => EVIDENCE[k].label).join(' and ')}, signed like the image; scanned within ${requirement.maxScanAge}; no finding at or above ${requirement.blockSeverity}`,
    ]);
  }
  return [
    md.heading(input.mode === 'rescan' ? 'attest-evidence (rescan)' : 'attest-evidence'),
    md.facts(facts),
    '',
    md.table(
      ['subject', 'digest', 'attestation', 'verified'],
      attached.map((a) => [
        a.platform,
        md.code(a.digest),
        `${EVIDENCE[a.kind].label} (${a.predicateType})`,
        a.verified ? 'yes' : 'no (verify: false)',
      ]),
    ),
    '',
    ...(verifyCommand ? [md.heading('Verify it yourself', 3), md.codeBlock(verifyCommand, 'sh')] : []),
  ].join('\n');
}
