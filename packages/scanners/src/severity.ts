import { listInput, show } from '@golden-image/kit';
import * as z from 'zod';

/** Trivy's severities, lowest first. OSV findings add UNSCORED (no CVSS score) on top of these. */
export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type FindingSeverity = Severity | 'UNSCORED';
export const COUNT_KEYS: readonly FindingSeverity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN', 'UNSCORED'];

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/**
 * A severity in any case (`high`, `High`, `HIGH`), as trivy-action takes them, in Trivy's upper-case spelling;
 * undefined when it is none of the five.
 */
export function normalSeverity(entry: string): Severity | undefined {
  const upper = entry.toUpperCase();
  return isSeverity(upper) ? upper : undefined;
}

function severityProblem(entry: string): string | undefined {
  return normalSeverity(entry)
    ? undefined
    : `unknown severity ${show(entry)}: use a comma-separated list of ${SEVERITIES.join(', ')} (any case)`;
}

/**
 * A list of severities. Trivy itself accepts only upper case; trivy-action (and so the workflows people migrate
 * from) also takes `high,critical`: both are accepted here and handed on in upper case.
 */
export function severityInput(defaultValue: readonly Severity[] = ['HIGH', 'CRITICAL']) {
  return listInput({ defaultValue: [...defaultValue], check: severityProblem }).transform((entries) => [
    ...new Set(entries.map((entry) => normalSeverity(entry) as Severity)),
  ]);
}

/** One severity (a threshold such as block-severity), in any case; '' gives the default. */
export function severityThresholdInput(defaultValue: Severity) {
  return z.string().transform((raw, ctx): Severity => {
    if (raw === '') return defaultValue;
    const severity = normalSeverity(raw);
    if (severity) return severity;
    ctx.addIssue({ code: 'custom', message: `must be one of ${SEVERITIES.join(', ')} (any case), got ${show(raw)}` });
    return z.NEVER;
  });
}

/** CVSS base score to severity (CVSS v3 bands): >= 9.0 CRITICAL, >= 7.0 HIGH, >= 4.0 MEDIUM, otherwise LOW. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  return 'LOW';
}

/** GitHub code scanning's `security-severity` property for a severity without a score. */
export const SECURITY_SEVERITY: Record<FindingSeverity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  UNKNOWN: '0.0',
  UNSCORED: '0.0',
};

export type SeverityCounts = Record<FindingSeverity, number>;

export function emptyCounts(): SeverityCounts {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0, UNSCORED: 0 };
}
