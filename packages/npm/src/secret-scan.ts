import type { ActionContext } from '@golden-image/kit';
import { type TrivySession, trivySecretScan } from '@golden-image/scanners';

export interface SecretFinding {
  /** Path relative to the scanned directory. */
  path: string;
  ruleId: string;
  category: string;
  severity: string;
  title: string;
  line?: number;
}

interface SecretReport {
  Results?: {
    Target?: string;
    Class?: string;
    Secrets?: { RuleID?: string; Category?: string; Severity?: string; Title?: string; StartLine?: number }[];
  }[];
}

/** Trivy's secret findings, one per match; a report with no Results is a clean one. */
export function parseSecretReport(report: unknown): SecretFinding[] {
  const results = (report as SecretReport | undefined)?.Results ?? [];
  return results.flatMap((result) =>
    (result.Secrets ?? []).map((secret) => ({
      path: result.Target ?? '',
      ruleId: secret.RuleID ?? '',
      category: secret.Category ?? '',
      severity: secret.Severity ?? 'UNKNOWN',
      title: secret.Title ?? '',
      ...(typeof secret.StartLine === 'number' ? { line: secret.StartLine } : {}),
    })),
  );
}

/** Trivy's secret scan of the unpacked package (scanners' trivySecretScan); every match blocks. */
export async function trivySecrets(
  ctx: ActionContext,
  session: TrivySession,
  dir: string,
  output: string,
): Promise<SecretFinding[]> {
  return parseSecretReport(await trivySecretScan(ctx, session, dir, output));
}
