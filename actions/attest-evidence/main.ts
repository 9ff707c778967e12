import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ATTEST_MODES,
  type AttestProvenance,
  attachEvidence,
  attachmentsOf,
  attestationsOutput,
  attestSummary,
  type CollectOptions,
  checkEvidenceCovers,
  checkModeInputs,
  checkRescan,
  collectEvidence,
  type EvidenceKind,
  evidenceGate,
  evidencePolicyProblem,
  evidenceRequirementInputs,
  githubProvenance,
  isEvidenceKind,
  pushedPlatforms,
  readKyvernoPolicy,
  recordedTrivyDb,
  requirementOf,
  runOf,
  verifyAttestationCommand,
  writeKyvernoPolicy,
  writePrepared,
} from '@golden-image/evidence';
import {
  type ActionContext,
  booleanInput,
  enumInput,
  inputProblem,
  listInput,
  maskSecretInputs,
  optionalCheckedString,
  optionalString,
  parseInputs,
  UserError,
} from '@golden-image/kit';
import { digestProblem, imageInput, tagProblem, tagRef } from '@golden-image/oci';
import { registryInputSpec, Skopeo, withAuthFile } from '@golden-image/oci-registry';
import { type DbCache, type Severity, severityInput } from '@golden-image/scanners';
import {
  checkCosignRequest,
  checkKeyInputs,
  type IdTokenFetcher,
  identityInput,
  identityRegExpInput,
  installCosign,
  issuerInput,
  keyInput,
  prepareSigningCredentials,
  registryFlags,
  signerFromInputs,
  sigstoreInputSpec,
  sigstoreInstanceOf,
  sourceInputSpec,
} from '@golden-image/signing';
import { ensureTool, toolInputSpec, toolRequest } from '@golden-image/tools';

export const inputs = {
  mode: enumInput(ATTEST_MODES, 'release'),
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
  'public-key': keyInput('public'),
  verify: booleanInput(true),
  'certificate-identity': identityInput(),
  'certificate-identity-regexp': identityRegExpInput(),
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

export interface AttestEvidenceDeps {
  fetchIdToken?: IdTokenFetcher;
  attestProvenance?: AttestProvenance;
  now?: Date;
  /** rescan: the actions cache the Trivy DB is kept in (default: the runner's). */
  cache?: DbCache;
}

/**
 * Attaches the SBOM and the scan result of a pushed digest (the index and each platform manifest) as in-toto
 * attestations signed like the image, by digest only. prepare and attach split that across two jobs (the build
 * job has the layout, the signing job the OIDC token); rescan scans the released digest again from the registry,
 * attaches the fresh scan result, and fails when it crosses the gate. Nothing is rebuilt and no tag moves.
 */
export async function main(ctx: ActionContext, deps: AttestEvidenceDeps = {}): Promise<void> {
  maskSecretInputs(ctx, 'password', 'github-token');
  const parsed = parseInputs(inputs, ctx.input);
  checkDigestOrTag(parsed);
  const input = { ...parsed, digest: parsed.digest ?? '' };
  checkModeInputs(input.mode, input);
  checkKeyInputs(input, 'attestations');
  const cosignRequest = toolRequest('cosign', input);
  if (input.mode !== 'prepare') checkCosignRequest(cosignRequest, input['bundle-format']);
  prepareSigningCredentials(ctx, input.key, input.mode !== 'prepare');
  const kinds: EvidenceKind[] = input.mode === 'rescan' ? ['vuln'] : input.attestations.filter(isEvidenceKind);
  const severity = input.severity as Severity[];
  const { gate, settings } = await evidenceGate({
    severity,
    ignoreUnfixed: input['ignore-unfixed'],
    trivyignores: input.trivyignores,
    workspace: ctx.env.GITHUB_WORKSPACE || process.cwd(),
    now: deps.now,
  });
  const policyIn = input['kyverno-policy'] ? await readKyvernoPolicy(input['kyverno-policy']) : undefined;
  const policyProblem = policyIn === undefined ? undefined : evidencePolicyProblem(policyIn, input['bundle-format']);
  if (policyProblem) throw new UserError(policyProblem);
  // A scheduled rescan may name the release by tag: it is read once, here, and everything after goes by digest.
  if (input.tag) input.digest = await digestOfTag(ctx, input, input.tag);
  const work = join(ctx.tempDir, 'golden-image-attest-evidence', input.mode);
  await rm(work, { recursive: true, force: true });
  const context = {
    image: input.image,
    digest: input.digest,
    gate: settings,
    mode: input.mode === 'rescan' ? ('rescan' as const) : ('release' as const),
    run: runOf(ctx.env),
  };
  const sbom = kinds.includes('sbom') && input.mode !== 'rescan' && input.mode !== 'attach';
  const syft = sbom ? await ensureTool(ctx, toolRequest('syft', input)) : undefined;

  const collect = (rescan?: CollectOptions['rescan']) =>
    collectEvidence(ctx, {
      mode: input.mode,
      kinds,
      gate,
      context,
      work,
      layoutPath: input['layout-path'],
      report: input.report,
      evidenceDir: input['evidence-dir'],
      syft,
      rescan,
    });

  if (input.mode === 'prepare') {
    const { items } = await collect();
    const dir = await writePrepared(ctx, input.digest, items);
    const db = recordedTrivyDb(items);
    ctx.output('digest', input.digest);
    ctx.output('evidence-dir', dir);
    ctx.output('db-digest', db?.digest ?? '');
    ctx.output('db-ref', db ? `${db.repository}@${db.digest}` : '');
    ctx.info(`${items.length} predicates of ${input.digest} written to ${dir}; attach them with mode: attach.`);
    return;
  }

  const cosign = await installCosign(ctx, cosignRequest, {
    bundleFormat: input['bundle-format'],
    instance: sigstoreInstanceOf(input),
    registryFlags: registryFlags({ tlsVerify: input['tls-verify'] }),
  });
  const trivy = input.mode === 'rescan' ? await ensureTool(ctx, toolRequest('trivy', input)) : undefined;

  await withAuthFile(ctx, input.image, input, async (authFile) => {
    const skopeo = new Skopeo(ctx.runner, {
      tlsVerify: input['tls-verify'],
      authFile,
      env: ctx.env,
      onRetry: (message) => ctx.info(`Retrying: ${message}`),
    });
    await skopeo.version();
    await cosign.withRegistryAuth(authFile, async (cosign) => {
      await cosign.requireSigningFormat();
      const registryPlatforms = await pushedPlatforms(skopeo, input.image, input.digest);
      const verifyAs = input.verify ? await signerFromInputs(ctx, cosign, input, deps.fetchIdToken) : undefined;
      for (const note of verifyAs?.notes ?? []) ctx.warning(note);
      const { items, findings } = await collect(
        trivy === undefined
          ? undefined
          : {
              skopeo,
              trivy,
              dbRepository: input['db-repository'],
              javaDbRepository: input['java-db-repository'],
              cacheDb: input['cache-db'],
              cache: deps.cache,
            },
      );
      checkEvidenceCovers(items, input.digest, registryPlatforms);

      const attached = await attachEvidence(ctx, cosign, {
        image: input.image,
        items,
        key: input.key,
        verifyAs: verifyAs?.signer,
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
      const policyFile =
        policyIn === undefined
          ? undefined
          : await writeKyvernoPolicy(ctx, input['kyverno-policy-file'], policyIn, requirement);
      const imageRef = `${input.image}@${input.digest}`;
      const verifyCommand = verifyAs
        ? await verifyAttestationCommand(cosign, { imageRef, kind: 'vuln', signer: verifyAs.signer })
        : '';
      const blocking = severity.reduce((sum, s) => sum + findings[s], 0);
      const db = recordedTrivyDb(items);

      ctx.output('digest', input.digest);
      ctx.output('attestations', attestationsOutput(attached));
      ctx.output('mechanism', where.mechanism);
      ctx.output('location', where.location);
      ctx.output('scan-result', blocking === 0 ? 'passed' : 'failed');
      ctx.output('findings', JSON.stringify(findings));
      ctx.output('verify-command', verifyCommand);
      ctx.output('kyverno-policy', policyFile ?? '');
      ctx.output('github-provenance', provenance?.written ? 'written' : 'none');
      ctx.output('db-digest', db?.digest ?? '');
      ctx.output('db-ref', db ? `${db.repository}@${db.digest}` : '');
      await ctx.summary(
        attestSummary({
          mode: input.mode,
          image: input.image,
          digest: input.digest,
          bundleFormat: input['bundle-format'],
          attached,
          where,
          cosignVersion: (await cosign.version()).text,
          verifyCommand,
          provenance: provenance?.note,
          findings,
          ...(db ? { db } : {}),
          ...(input.tag ? { resolvedFrom: `${input.image}:${input.tag}` } : {}),
          ...(input['kyverno-policy'] ? { requirement } : {}),
        }),
      );
      if (input.mode === 'rescan') checkRescan(input.image, input.digest, severity, findings);
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
async function digestOfTag(
  ctx: ActionContext,
  input: { image: string; 'tls-verify': boolean; username?: string; password?: string },
  tag: string,
): Promise<string> {
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
