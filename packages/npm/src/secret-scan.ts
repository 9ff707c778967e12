import { readFile } from 'node:fs/promises';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { parseTrivyJson, type TrivySession } from '@golden-image/scanners';

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

/**
 * `trivy fs --scanners secret` over the unpacked package with Trivy's built-in rules, in the session's scratch
 * directory and environment (no trivy.yaml or trivy-secret.yaml of the job applies). Every match blocks.
 */
export async function trivySecrets(
  ctx: ActionContext,
  session: TrivySession,
  dir: string,
  output: string,
): Promise<SecretFinding[]> {
  const args = [
    'fs',
    '--scanners',
    'secret',
    '--format',
    'json',
    '--output',
    output,
    '--cache-dir',
    session.cacheDir,
    '--skip-db-update',
    '--ignorefile',
    session.emptyIgnore,
    '--no-progress',
    '--skip-version-check',
    '--disable-telemetry',
    dir,
  ];
  const result = await ctx.runner.run(session.trivy, args, { env: session.env, cwd: session.workDir });
  if (result.exitCode !== 0) {
    throw new UserError(
      `Trivy's secret scan of ${dir} failed (exit code ${result.exitCode}): ${lastLines(result.stderr)}`,
    );
  }
  let text: string;
  try {
    text = await readFile(output, 'utf8');
  } catch {
    throw new UserError(`Trivy exited 0 but wrote no secret report to ${output}; the gate cannot pass without one.`);
  }
  return parseSecretReport(parseTrivyJson(text, output));
}
