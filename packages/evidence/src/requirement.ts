import { listInput, optionalCheckedString, show } from '@golden-image/kit';
import { SEVERITIES, type Severity, severityThresholdInput } from '@golden-image/scanners';
import type { Statement } from './cosign-attest.js';
import { EVIDENCE_KINDS, type EvidenceKind, isEvidenceKind } from './kinds.js';

/** What admission and promotion demand of a digest's evidence. */
export interface EvidenceRequirement {
  kinds: EvidenceKind[];
  /** Go duration text (Kyverno compares it as such), e.g. 168h. */
  maxScanAge: string;
  /** Findings at or above this severity (as the scan's gate counted them) refuse the digest. */
  blockSeverity: Severity;
}

export const DEFAULT_MAX_SCAN_AGE = '168h';
export const DEFAULT_BLOCK_SEVERITY: Severity = 'HIGH';

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** A Go duration of hours, minutes and seconds (168h, 36h30m), in milliseconds; undefined when malformed. */
export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === '') return undefined;
  const [h = '0', m = '0', s = '0'] = match.slice(1).map((part) => part ?? '0');
  const ms = ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
  return ms > 0 ? ms : undefined;
}

export const durationProblem = (value: string) =>
  durationMs(value) === undefined
    ? `must be a duration in hours, minutes and seconds such as 168h or 36h30m, got ${show(value)}`
    : undefined;

/** The severities at or above `threshold`, highest first. */
export function severitiesFrom(threshold: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(threshold)).reverse();
}

/** Inputs shared by promote-tags and attest-evidence: which evidence, how fresh, how clean. */
export const evidenceRequirementInputs = (defaultKinds: EvidenceKind[]) => ({
  'require-attestations': listInput({
    check: (kind) =>
      isEvidenceKind(kind) ? undefined : `must list ${EVIDENCE_KINDS.join(' and/or ')}, got ${show(kind)}`,
    defaultValue: defaultKinds,
  }),
  'max-scan-age': optionalCheckedString(durationProblem).transform((value) => value ?? DEFAULT_MAX_SCAN_AGE),
  'block-severity': severityThresholdInput(DEFAULT_BLOCK_SEVERITY),
});

export function requirementOf(input: {
  'require-attestations': string[];
  'max-scan-age': string;
  'block-severity': Severity;
}): EvidenceRequirement {
  return {
    kinds: input['require-attestations'] as EvidenceKind[],
    maxScanAge: input['max-scan-age'],
    blockSeverity: input['block-severity'],
  };
}

/**
 * What is wrong with one verified scan-result statement, or undefined: too old, or findings at or above the
 * blocking severity. The same two checks the Kyverno policy makes.
 */
export function scanProblems(statement: Statement, requirement: EvidenceRequirement, now: Date): string[] {
  const problems: string[] = [];
  const metadata = statement.predicate.metadata as { scanFinishedOn?: unknown } | undefined;
  const finished = typeof metadata?.scanFinishedOn === 'string' ? Date.parse(metadata.scanFinishedOn) : Number.NaN;
  const maxMs = durationMs(requirement.maxScanAge) ?? 0;
  if (Number.isNaN(finished)) {
    problems.push('the scan result has no scan time (metadata.scanFinishedOn)');
  } else if (now.getTime() - finished > maxMs) {
    const hours = Math.floor((now.getTime() - finished) / 3_600_000);
    problems.push(
      `the scan result is ${hours}h old (scanned ${new Date(finished).toISOString()}), older than ${requirement.maxScanAge}`,
    );
  }
  const parameters = (statement.predicate.invocation as { parameters?: { findings?: unknown } } | undefined)
    ?.parameters;
  const findings = parameters?.findings as Record<string, unknown> | undefined;
  if (!findings || typeof findings !== 'object') {
    problems.push('the scan result has no findings counts (invocation.parameters.findings): not made by golden-image');
  } else {
    const found = severitiesFrom(requirement.blockSeverity)
      .map((severity) => [severity, Number(findings[severity] ?? Number.NaN)] as const)
      .filter(([, count]) => !(count === 0));
    if (found.length > 0) {
      problems.push(
        `the scan found ${found.map(([severity, count]) => `${Number.isNaN(count) ? '?' : count} ${severity}`).join(', ')} (block-severity ${requirement.blockSeverity})`,
      );
    }
  }
  return problems;
}
