// The root action's inputs as a Release (what plan.ts runs), checked against every step's own input rules before
// anything runs.
import { parseInputs, UserError } from '@golden-image/kit';
import { choosePolicyKind, policyKindProblem } from '@golden-image/signing';
import type { Input } from './inputs.js';
import { plan, type Release } from './plan.js';

/** Stands in for a value an earlier step hands on, so every step's inputs can be checked before anything runs. */
const PLACEHOLDERS: Record<string, string> = { 'layout-path': '/placeholder', digest: `sha256:${'0'.repeat(64)}` };

/**
 * The form of the Kyverno policy, decided here where it is known whether attest-evidence will require the evidence
 * (sign-digest alone assumes not); refused before anything runs when the form asked for cannot hold what is signed.
 */
function policyKindOf(input: Input): string | undefined {
  if (!input.sign) return undefined;
  const { kind, refused } = choosePolicyKind(input['kyverno-policy-kind'], {
    signer: input.key ? 'key' : 'keyless',
    bundleFormat: 'legacy',
    transparencyLog: !['false', 'False', 'FALSE'].includes(input['transparency-log'] ?? ''),
    evidence: input.attest,
  });
  if (refused) throw new UserError(policyKindProblem(refused));
  return kind;
}

export function releaseOf(
  input: Input,
  push: boolean,
  tags: { immutable: string[]; rolling: string[] },
  secretSpecs: string[],
): Release {
  const tools = { 'install-tools': String(input['install-tools']), 'tool-mirror': input['tool-mirror'] };
  return {
    images: input.image,
    ...tags,
    push,
    scanRepo: input['scan-repo'],
    sign: input.sign,
    attest: input.attest,
    key: input.key,
    policyKind: policyKindOf(input),
    scanRepoPath: input['scan-repo-path'] ?? '.',
    build: {
      context: input.context,
      file: input.file,
      platforms: joined(input.platforms, ','),
      'build-args': joined(input['build-args']),
      secrets: joined(secretSpecs),
      'secret-files': joined(input['secret-files']),
      ssh: joined(input.ssh),
      'build-contexts': joined(input['build-contexts']),
      'no-cache': String(input['no-cache']),
      pull: String(input.pull),
      target: input.target,
      labels: joined(input.labels),
      annotations: joined(input.annotations),
      'cache-from': joined(input['cache-from']),
      'cache-to': joined(input['cache-to']),
      provenance: input.provenance,
      sbom: input.sbom,
      builder: input.builder,
    },
    gates: {
      severity: input.severity,
      'ignore-unfixed': String(input['ignore-unfixed']),
      trivyignores: joined(input.trivyignores, ','),
    },
    scanners: { 'db-repository': input['db-repository'], 'java-db-repository': input['java-db-repository'] },
    skipDirs: joined(input['skip-dirs'], ','),
    imageScanners: joined(input.scanners, ','),
    repoGate: { 'block-uncalled': String(input['block-uncalled']), 'osv-offline-db': input['osv-offline-db'] },
    sigstore: {
      'fulcio-url': input['fulcio-url'],
      'rekor-url': input['rekor-url'],
      'transparency-log': input['transparency-log'],
      'ct-log': input['ct-log'],
      'certificate-chain': input['certificate-chain'],
      'trusted-root': input['trusted-root'],
    },
    registry: { 'tls-verify': String(input['tls-verify']), username: input.username, password: input.password },
    tools,
    allowOverwrite: input['allow-overwrite'],
    tagRaceWindowMs: input['tag-race-window-ms'],
  };
}

/** A list input handed on to a step: one entry per line (or `separator`), or unset when empty. */
function joined(entries: readonly string[], separator = '\n'): string | undefined {
  return entries.length > 0 ? entries.join(separator) : undefined;
}

/** Every step's inputs, checked by that step's own rules (with placeholders for what earlier steps output). */
export function checkSteps(release: Release): void {
  const problems: string[] = [];
  for (const step of plan(release)) {
    const raw = step.inputs({});
    try {
      parseInputs(step.spec, (name) => raw[name] ?? PLACEHOLDERS[name] ?? '');
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(...error.message.split('\n').map((line) => `${step.name}: ${line}`));
    }
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}
