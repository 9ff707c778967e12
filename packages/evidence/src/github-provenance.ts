import { type ActionContext, UserError } from '@golden-image/kit';
import { hasGithubOidc } from '@golden-image/signing';

export type ProvenanceMode = 'auto' | 'true' | 'false';

/** What @actions/attest's attestProvenance needs and returns, injectable for tests. */
export type AttestProvenance = (options: {
  subjects: { name: string; digest: Record<string, string> }[];
  token: string;
}) => Promise<{ attestationID?: string; tlogID?: string }>;

export interface ProvenanceOutcome {
  written: boolean;
  /** Why not, or the attestation's id. */
  note: string;
}

/**
 * A GitHub artifact attestation (SLSA build provenance) for IMAGE@DIGEST, so `gh attestation verify
 * oci://IMAGE@DIGEST` finds it. auto: only on GitHub Actions with an OIDC token, and a failure (no
 * `attestations: write`) is a warning; true: required; false: never.
 */
export async function githubProvenance(
  ctx: ActionContext,
  mode: ProvenanceMode,
  options: { image: string; digest: string; token?: string; attest?: AttestProvenance },
): Promise<ProvenanceOutcome> {
  if (mode === 'false') return { written: false, note: 'off (github-provenance: false)' };
  const onGithub = ctx.env.GITHUB_ACTIONS === 'true' && hasGithubOidc(ctx.env);
  if (mode === 'auto' && !onGithub) return { written: false, note: 'off: not on GitHub Actions with an OIDC token' };
  const token = options.token || ctx.env.GITHUB_TOKEN || '';
  try {
    if (!onGithub) throw new Error('this job has no GitHub OIDC token (permissions: id-token: write)');
    if (!token) throw new Error('no token: set github-token (the job token needs attestations: write)');
    const attest = options.attest ?? (await import('@actions/attest')).attestProvenance;
    const result = await attest({
      subjects: [{ name: options.image, digest: { sha256: options.digest.replace(/^sha256:/, '') } }],
      token,
    });
    return { written: true, note: `GitHub attestation ${result.attestationID ?? '(id not returned)'}` };
  } catch (error) {
    const message = `GitHub build provenance was not written: ${(error as Error).message}`;
    if (mode === 'true') throw new UserError(`${message} (github-provenance: true).`);
    ctx.warning(`${message}. It is optional (github-provenance: auto); grant "attestations: write" to write it.`);
    return { written: false, note: message };
  }
}
