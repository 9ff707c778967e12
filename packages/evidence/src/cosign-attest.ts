import { lastLines, UserError } from '@golden-image/kit';
import {
  type BundleFormat,
  type Cosign,
  type CosignVersion,
  describeBinding,
  type Signer,
  type SigstoreInstance,
  shellCommand,
  signArgs,
  verifyArgs,
} from '@golden-image/signing';
import { EVIDENCE, type EvidenceKind } from './kinds.js';

export interface AttestArgsOptions {
  imageRef: string;
  kind: EvidenceKind;
  predicateFile: string;
  version: CosignVersion;
  bundleFormat: BundleFormat;
  key?: string;
  instance?: SigstoreInstance;
  registryFlags?: readonly string[];
}

/**
 * `cosign attest` by digest, with the signing flags `cosign sign` gets (key, bundle format, Sigstore instance,
 * registry), taken from signArgs so both stay in step. A legacy attestation goes into the sha256-<hex>.att image
 * with --replace: the new one takes the place of any earlier one of the same predicate type, so a digest carries
 * one SBOM and one scan result and a rescan supersedes the old scan. A new-format bundle is one more OCI 1.1
 * referrer; cosign has no replace for those.
 */
export function attestArgs(options: AttestArgsOptions): string[] {
  const sign = signArgs({
    imageRef: options.imageRef,
    version: options.version,
    bundleFormat: options.bundleFormat,
    recursive: false,
    key: options.key,
    instance: options.instance,
    registryFlags: options.registryFlags,
  });
  const flags = sign.slice(1, -1);
  return [
    'attest',
    ...flags,
    '--predicate',
    options.predicateFile,
    '--type',
    EVIDENCE[options.kind].cosignType,
    ...(options.bundleFormat === 'legacy' ? ['--replace'] : []),
    options.imageRef,
  ];
}

export interface VerifyAttestationArgsOptions {
  imageRef: string;
  kind: EvidenceKind;
  signer: Signer;
  version: CosignVersion;
  bundleFormat: BundleFormat;
  instance?: SigstoreInstance;
  registryFlags?: readonly string[];
}

/** `cosign verify-attestation --type T`, pinned to the signer exactly as `cosign verify` is (verifyArgs). */
export function verifyAttestationArgs(options: VerifyAttestationArgsOptions): string[] {
  const verify = verifyArgs({
    imageRef: options.imageRef,
    signer: options.signer,
    bundleFormat: options.bundleFormat,
    version: options.version,
    instance: options.instance,
    registryFlags: options.registryFlags,
  });
  return ['verify-attestation', ...verify.slice(1, -1), '--type', EVIDENCE[options.kind].cosignType, options.imageRef];
}

/** An in-toto statement as cosign verify-attestation prints it (the DSSE payload, decoded). */
export interface Statement {
  predicateType: string;
  subject: { name?: string; digest?: Record<string, string> }[];
  predicate: Record<string, unknown>;
}

/** What one attestation command names; the rest (format, instance, registry) is the cosign's step setup. */
export interface AttestationTarget {
  imageRef: string;
  kind: EvidenceKind;
}

/** The argv of `cosign attest` for this cosign's version and step setup. */
export async function cosignAttestArgs(
  cosign: Cosign,
  options: AttestationTarget & { predicateFile: string; key?: string },
): Promise<string[]> {
  return attestArgs({ ...options, ...(await cosign.argvSettings()) });
}

/** The argv of `cosign verify-attestation` for this cosign's version and step setup. */
export async function cosignVerifyAttestationArgs(
  cosign: Cosign,
  options: AttestationTarget & { signer: Signer },
): Promise<string[]> {
  return verifyAttestationArgs({ ...options, ...(await cosign.argvSettings()) });
}

/** The verify-attestation command for people, runnable as printed. */
export async function verifyAttestationCommand(
  cosign: Cosign,
  options: AttestationTarget & { signer: Signer },
): Promise<string> {
  return shellCommand(['cosign', ...(await cosignVerifyAttestationArgs(cosign, options))]);
}

export async function attachAttestation(
  cosign: Cosign,
  options: AttestationTarget & { predicateFile: string; key?: string },
): Promise<void> {
  await cosign.runChecked(
    await cosignAttestArgs(cosign, options),
    `Attaching the ${EVIDENCE[options.kind].label} to ${options.imageRef}`,
  );
}

/**
 * Runs cosign verify-attestation and returns the statements of that type whose subject is the digest. Throws a
 * UserError naming the digest, the type and the signer when none verifies.
 */
export async function verifiedStatements(
  cosign: Cosign,
  options: AttestationTarget & { signer: Signer },
): Promise<Statement[]> {
  const { label, predicateType } = EVIDENCE[options.kind];
  const result = await cosign.run(await cosignVerifyAttestationArgs(cosign, options), { silent: true });
  const expected = describeBinding(options.signer);
  if (result.exitCode !== 0) {
    throw new UserError(
      `No ${label} attestation of ${options.imageRef} verifies (expected ${expected}): ${why(result.stderr)}.\n` +
        `cosign said: ${lastLines(result.stderr, 3)}`,
    );
  }
  const hex = options.imageRef.slice(options.imageRef.lastIndexOf('@sha256:') + '@sha256:'.length);
  const statements = parseStatements(result.stdout.toString('utf8')).filter(
    (s) => s.predicateType === predicateType && s.subject.some((subject) => subject.digest?.sha256 === hex),
  );
  if (statements.length === 0) {
    throw new UserError(
      `cosign verified an attestation of ${options.imageRef}, but none is a ${label} (${predicateType}) about that digest.`,
    );
  }
  return statements;
}

/** cosign prints one DSSE envelope per line, its payload the base64 in-toto statement. */
export function parseStatements(stdout: string): Statement[] {
  const statements: Statement[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const envelope = JSON.parse(line) as { payload?: string };
      if (!envelope.payload) continue;
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
      if (typeof statement.predicateType === 'string') {
        statements.push({ ...statement, subject: statement.subject ?? [], predicate: statement.predicate ?? {} });
      }
    } catch {
      // not an envelope
    }
  }
  return statements;
}

function why(stderr: string): string {
  if (/expected GitHub Workflow (Repository|Ref|Trigger) not found/.test(stderr))
    return 'its attestations are signed by that identity, but from another source repository, ref or trigger';
  if (/none of the attestations matched the predicate type|no matching attestations/i.test(stderr))
    return 'there is none of that type signed by that signer';
  if (/no signatures found|no attestations/i.test(stderr)) return 'it has no attestation at all';
  return 'cosign verify-attestation failed';
}
