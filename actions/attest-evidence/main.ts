import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type AttachedEvidence,
  type Attachments,
  type AttestProvenance,
  attachEvidence,
  attachmentsOf,
  EVIDENCE,
  type EvidenceItem,
  type EvidenceKind,
  evidenceRequirementInputs,
  githubProvenance,
  indexSbom,
  isEvidenceKind,
  jobTrivyCacheDir,
  type PlatformScan,
  readScanReport,
  requireEvidenceInPolicy,
  requirementOf,
  rescanDigest,
  sumCounts,
  syftLayout,
  type TrivyDbMetadata,
  trivyDbMetadata,
  verifyAttestationArgs,
  vulnPredicate,
} from '@golden-image/evidence';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  maskSecretInputs,
  md,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import {
  digestInput,
  imageInput,
  isRunnable,
  type PlatformManifest,
  sha256File,
  verifyLayout,
} from '@golden-image/oci';
import { registryInputSpec, Skopeo, withAuthFile } from '@golden-image/registry';
import {
  IgnoreRules,
  loadIgnoreFiles,
  resolveIgnoreFiles,
  type Severity,
  severityInput,
  singlePlatformLayout,
} from '@golden-image/scanners';
import {
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

export const inputs = {
  mode: enumInput(['release', 'rescan'] as const, 'release'),
  image: imageInput(),
  digest: digestInput(),
  'layout-path': optionalString(),
  report: optionalString(),
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

type Input = ReturnType<typeof parseInputs<typeof inputs>>;

export interface AttestEvidenceDeps {
  fetchIdToken?: IdTokenFetcher;
  attestProvenance?: AttestProvenance;
  now?: Date;
}

/**
 * Attaches the SBOM and the scan result of a pushed digest (the index and each platform manifest) as in-toto
 * attestations signed like the image, by digest only. mode rescan: scans the released digest again from the
 * registry, attaches the fresh scan result, and fails when it crosses the gate; nothing is rebuilt, no tag moves.
 */
export async function main(ctx: ActionContext, deps: AttestEvidenceDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'password', 'github-token');
  const input = parseInputs(inputs, ctx.input);
  checkModeInputs(input);
  const key = input.key;
  if (key) {
    const keyless = [
      'certificate-identity',
      'certificate-oidc-issuer',
      'source-repository',
      'source-ref',
      'source-trigger',
      'fulcio-url',
    ] as const;
    const misplaced = keyless.filter((name) => input[name]);
    if (misplaced.length > 0)
      throw new UserError(
        inputProblem('key', `key-based attestations are verified with the key; leave ${misplaced.join(', ')} empty`),
      );
    if (ctx.env.COSIGN_PASSWORD) ctx.secret(ctx.env.COSIGN_PASSWORD);
  } else {
    requireGithubOidc(ctx.env);
  }
  const kinds: EvidenceKind[] = input.mode === 'rescan' ? ['vuln'] : input.attestations.filter(isEvidenceKind);
  const severity = input.severity as Severity[];
  const workspace = ctx.env.GITHUB_WORKSPACE || process.cwd();
  const ignoreFiles = resolveIgnoreFiles(input.trivyignores, workspace);
  const ignore =
    ignoreFiles.length > 0 ? await loadIgnoreFiles(ignoreFiles, 'trivyignores', deps.now) : IgnoreRules.empty();
  const gateSettings = {
    severity,
    ignoreUnfixed: input['ignore-unfixed'],
    ignoreFiles: await Promise.all(
      ignoreFiles.map(async (path) => ({ path, sha256: (await sha256File(path)).replace(/^sha256:/, '') })),
    ),
  };
  const policyIn = input['kyverno-policy'] ? await readPolicy(input['kyverno-policy']) : undefined;
  const work = join(ctx.tempDir, 'golden-image-attest-evidence');
  await rm(work, { recursive: true, force: true });

  const cosign = await ensureTool(ctx, toolRequest('cosign', input));
  const syft = kinds.includes('sbom') ? await ensureTool(ctx, toolRequest('syft', input)) : undefined;
  const trivy = input.mode === 'rescan' ? await ensureTool(ctx, toolRequest('trivy', input)) : undefined;
  const gate = { severity, ignoreUnfixed: input['ignore-unfixed'], ignore };

  await withAuthFile(ctx, input.image, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, {
      tlsVerify: input['tls-verify'],
      authFile,
      env: ctx.env,
      onRetry: (m) => ctx.info(`Retrying: ${m}`),
    });
    await skopeo.version();
    // cosign reads registry credentials only from a docker config: the same private one the signing step uses.
    await withCosignAuth(ctx, authFile, async (env) => {
      const version = await detectCosignVersion({ ...ctx, env }, cosign);
      if (input['bundle-format'] === 'new' && version.major < 3 && !(version.major === 2 && version.minor >= 6))
        throw new UserError(
          inputProblem('bundle-format', `"new" needs cosign v2.6 or v3, but cosign ${version.text} is in use`),
        );
      const verifyAs = input.verify ? await signerFor(ctx, cosign, input, deps) : undefined;

      let platforms: PlatformManifest[];
      let scans: PlatformScan[];
      let db: TrivyDbMetadata | undefined;
      let times: { startedOn?: string; finishedOn?: string } = {};
      const sboms = new Map<string, Record<string, unknown>>();
      if (input.mode === 'rescan') {
        const rescan = await rescanDigest(ctx, {
          image: input.image,
          digest: input.digest,
          skopeo,
          trivy: trivy as string,
          work: join(work, 'rescan'),
          gate,
          dbRepository: input['db-repository'],
          javaDbRepository: input['java-db-repository'],
          cacheDb: input['cache-db'],
          now: deps.now,
        });
        ({ platforms, scans, db } = rescan);
        times = { startedOn: rescan.startedOn, finishedOn: rescan.finishedOn };
      } else {
        const layout = await ctx.group('Verify the layout', () =>
          verifyLayout(input['layout-path'] as string, input.digest),
        );
        platforms = layout.manifests.filter(isRunnable);
        if (platforms.length === 0)
          throw new UserError(`The layout ${layout.path} holds no platform image; nothing to attest.`);
        const pushed = await skopeo.digestOf(`${input.image}@${input.digest}`);
        if (pushed !== input.digest)
          throw new UserError(`${input.image}@${input.digest} is not in the registry: push it first (push-layout).`);
        scans = await readScanReport(input.report as string, input.digest, platforms, gate);
        db = await trivyDbMetadata(jobTrivyCacheDir(ctx.tempDir));
        if (!db)
          ctx.warning(
            'The Trivy DB of this job was not found (scan-layout runs in another job?): the scan result records no DB time.',
          );
        if (syft) {
          for (const [i, manifest] of platforms.entries()) {
            const dir = await singlePlatformLayout(layout.path, manifest, join(work, `platform-${i}`));
            const output = join(work, `sbom-${i}.cdx.json`);
            const info = await ctx.group(`SBOM of ${manifest.platform} (Syft)`, () =>
              syftLayout(ctx, syft, { layoutDir: dir, image: input.image, output, workDir: join(work, 'syft') }),
            );
            ctx.info(`${manifest.platform}: ${info.components} components (CycloneDX ${info.specVersion ?? '?'})`);
            sboms.set(manifest.digest, JSON.parse(await readFile(output, 'utf8')));
            await rm(dir, { recursive: true, force: true });
          }
        }
      }

      const items = evidenceItems(input, kinds, platforms, scans, sboms, { db, times, gateSettings, env: ctx.env });
      const attached = await attachEvidence(ctx, cosign, {
        image: input.image,
        items,
        version,
        bundleFormat: input['bundle-format'],
        key,
        verifyAs,
        instance: sigstoreInstanceOf(input),
        registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
        env,
        work: join(work, 'predicates'),
      });
      const where = await attachmentsOf(skopeo, input.image, input.digest, input['bundle-format']);
      const provenance =
        input.mode === 'release'
          ? await githubProvenance(ctx, input['github-provenance'], {
              image: input.image,
              digest: input.digest,
              token: input['github-token'],
              attest: deps.attestProvenance,
            })
          : undefined;

      const requirement = requirementOf(input);
      let policyFile: string | undefined;
      if (policyIn !== undefined) {
        policyFile = input['kyverno-policy-file'] ?? join(ctx.tempDir, 'attest-evidence', 'kyverno-clusterpolicy.yaml');
        await mkdir(dirname(policyFile), { recursive: true });
        await writeFile(policyFile, requireEvidenceInPolicy(policyIn, requirement));
      }
      const verifyCommand = verifyAs
        ? shellCommand([
            'cosign',
            ...verifyAttestationArgs({
              imageRef: `${input.image}@${input.digest}`,
              kind: 'vuln',
              signer: verifyAs,
              version,
              bundleFormat: input['bundle-format'],
              instance: sigstoreInstanceOf(input),
              registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
            }),
          ])
        : '';
      const blocking = sumCounts(scans.map((s) => s.counts));
      const blockingTotal = severity.reduce((sum, s) => sum + blocking[s], 0);

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
      ctx.output('scan-result', blockingTotal === 0 ? 'passed' : 'failed');
      ctx.output('findings', JSON.stringify(blocking));
      ctx.output('verify-command', verifyCommand);
      ctx.output('kyverno-policy', policyFile ?? '');
      ctx.output('github-provenance', provenance?.written ? 'written' : 'none');
      await ctx.summary(
        summary(input, attached, where, version.text, verifyCommand, provenance?.note, blocking, requirement),
      );

      if (input.mode === 'rescan' && blockingTotal > 0) {
        throw new UserError(
          `The rescan of ${input.image}@${input.digest} found ${severity
            .map((s) => `${blocking[s]} ${s}`)
            .filter((t) => !t.startsWith('0 '))
            .join(', ')} ` +
            `(gate ${severity.join(',')}). The fresh scan result is attached, so admission policies that require a clean scan now refuse this digest. ` +
            'Nothing was rebuilt and no tag moved: fix the image and release a new digest, or review the findings in an ignore file.',
        );
      }
    });
  });
}

function checkModeInputs(input: Input): void {
  if (input.mode === 'release') {
    const missing = (['layout-path', 'report'] as const).filter((name) => !input[name]);
    if (missing.length > 0)
      throw new UserError(
        missing
          .map((name) =>
            inputProblem(
              name,
              `is required in mode release: the ${name === 'report' ? 'report output of scan-layout' : 'layout-path output of build-oci'}`,
            ),
          )
          .join('\n'),
      );
  } else {
    const extra = (['layout-path', 'report'] as const).filter((name) => input[name]);
    if (extra.length > 0)
      throw new UserError(
        inputProblem(
          extra[0] as string,
          'mode rescan copies the digest from the registry and scans it again; leave layout-path and report empty',
        ),
      );
  }
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

function evidenceItems(
  input: Input,
  kinds: readonly EvidenceKind[],
  platforms: PlatformManifest[],
  scans: PlatformScan[],
  sboms: Map<string, Record<string, unknown>>,
  context: {
    db?: TrivyDbMetadata;
    times: { startedOn?: string; finishedOn?: string };
    gateSettings: { severity: Severity[]; ignoreUnfixed: boolean; ignoreFiles: { path: string; sha256: string }[] };
    env: NodeJS.ProcessEnv;
  },
): EvidenceItem[] {
  const run =
    context.env.GITHUB_RUN_ID && context.env.GITHUB_REPOSITORY
      ? {
          uri: `${context.env.GITHUB_SERVER_URL || 'https://github.com'}/${context.env.GITHUB_REPOSITORY}/actions/runs/${context.env.GITHUB_RUN_ID}`,
          eventId: `${context.env.GITHUB_RUN_ID}-${context.env.GITHUB_RUN_ATTEMPT ?? '1'}`,
        }
      : undefined;
  const vuln = (subject: string, of: PlatformScan[]) =>
    vulnPredicate({
      image: input.image,
      subject,
      scans: of,
      gate: context.gateSettings,
      db: context.db,
      dbRepositories: input['db-repository'],
      mode: input.mode,
      scanStartedOn: context.times.startedOn,
      scanFinishedOn: context.times.finishedOn,
      run,
    });
  // The top-level digest is an index unless it is the one platform manifest itself.
  const isIndex = !platforms.some((p) => p.digest === input.digest);
  const items: EvidenceItem[] = [];
  if (isIndex) {
    if (kinds.includes('sbom')) {
      const parts = platforms.map((p) => ({ platform: p.platform, digest: p.digest, sbom: sboms.get(p.digest) ?? {} }));
      items.push({
        digest: input.digest,
        platform: 'index',
        kind: 'sbom',
        predicate: indexSbom(input.image, input.digest, parts),
      });
    }
    if (kinds.includes('vuln'))
      items.push({ digest: input.digest, platform: 'index', kind: 'vuln', predicate: vuln(input.digest, scans) });
  }
  for (const [i, manifest] of platforms.entries()) {
    const scan = scans[i] as PlatformScan;
    if (kinds.includes('sbom'))
      items.push({
        digest: manifest.digest,
        platform: manifest.platform,
        kind: 'sbom',
        predicate: sboms.get(manifest.digest),
      });
    if (kinds.includes('vuln'))
      items.push({
        digest: manifest.digest,
        platform: manifest.platform,
        kind: 'vuln',
        predicate: vuln(manifest.digest, [scan]),
      });
  }
  return items;
}

function summary(
  input: Input,
  attached: AttachedEvidence[],
  where: Attachments,
  cosignVersion: string,
  verifyCommand: string,
  provenance: string | undefined,
  findings: Record<Severity, number>,
  requirement: { kinds: string[]; maxScanAge: string; blockSeverity: Severity },
): string {
  return [
    md.heading(input.mode === 'rescan' ? 'attest-evidence (rescan)' : 'attest-evidence'),
    md.facts([
      ['Digest', md.code(`${input.image}@${input.digest}`)],
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
      ...(provenance ? [['GitHub build provenance', provenance] as [string, string]] : []),
      ...(input['kyverno-policy']
        ? [
            [
              'Policy requires',
              `${requirement.kinds.join(', ')}; scan within ${requirement.maxScanAge}; no finding at or above ${requirement.blockSeverity}`,
            ] as [string, string],
          ]
        : []),
    ]),
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
