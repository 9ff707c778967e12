import type { Finding } from './finding.js';
import { SECURITY_SEVERITY } from './severity.js';

/**
 * SARIF 2.1.0 built by the suite from the gated findings (not Trivy's `--format sarif`): one log covers every
 * platform of a layout and both scanners of a repository, and holds exactly the findings the gate counted.
 */
export interface SarifRun {
  tool: string;
  version?: string;
  informationUri: string;
  findings: readonly Finding[];
  /** Where a finding sits, as a relative URI (a lockfile path, or a platform for image findings). */
  locate: (finding: Finding) => string;
}

export function buildSarif(runs: readonly SarifRun[]): object {
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: runs.map(buildRun),
  };
}

function buildRun(run: SarifRun): object {
  const ruleIndex = new Map<string, number>();
  const rules: object[] = [];
  const results: object[] = new Array(run.findings.length);
  for (const [i, finding] of run.findings.entries()) {
    let index = ruleIndex.get(finding.id);
    if (index === undefined) {
      index = rules.length;
      ruleIndex.set(finding.id, index);
      const severity = finding.score !== undefined ? finding.score.toFixed(1) : SECURITY_SEVERITY[finding.severity];
      const kind = finding.kind ? KIND_NAMES[finding.kind] : undefined;
      rules.push({
        id: finding.id,
        name: kind?.rule ?? 'Vulnerability',
        shortDescription: { text: finding.title ?? finding.id },
        ...(finding.url ? { helpUri: finding.url } : {}),
        properties: {
          'security-severity': severity,
          precision: 'very-high',
          tags: ['security', kind?.tag ?? 'vulnerability', finding.severity],
        },
      });
    }
    const where = finding.platform ? ` on ${finding.platform}` : '';
    const fixed = finding.fixed.length > 0 ? finding.fixed.join(', ') : 'no fix available';
    const text = finding.kind
      ? `${KIND_NAMES[finding.kind].tag} ${finding.id} (${finding.severity})${finding.title ? `: ${finding.title}` : ''}${finding.pkg ? ` in ${finding.pkg}` : ''}${where}, target ${finding.target}`
      : `${finding.id} (${finding.severity}${finding.malicious ? ', malicious package' : ''}) in ${finding.pkg} ${finding.installed}${where}, target ${finding.target}; fixed in: ${fixed}`;
    results[i] = {
      ruleId: finding.id,
      ruleIndex: index,
      level: level(finding),
      message: { text },
      locations: [{ physicalLocation: { artifactLocation: { uri: run.locate(finding) }, region: { startLine: 1 } } }],
    };
  }
  return {
    tool: {
      driver: {
        name: run.tool,
        ...(run.version ? { version: run.version } : {}),
        informationUri: run.informationUri,
        rules,
      },
    },
    results,
  };
}

const KIND_NAMES = {
  secret: { rule: 'Secret', tag: 'secret' },
  misconfig: { rule: 'Misconfiguration', tag: 'misconfiguration' },
  license: { rule: 'License', tag: 'license' },
} as const;

function level(finding: Finding): 'error' | 'warning' | 'note' {
  if (finding.malicious || finding.severity === 'CRITICAL' || finding.severity === 'HIGH') return 'error';
  if (finding.severity === 'MEDIUM' || finding.severity === 'UNSCORED') return 'warning';
  return 'note';
}

/** A URI-safe relative path for a SARIF location. */
export function sarifUri(path: string): string {
  return path
    .replace(/^\.\//, '')
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
}
