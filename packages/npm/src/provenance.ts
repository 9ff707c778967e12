import { UserError } from '@golden-image/kit';
import { type Attempt, type PollOptions, poll } from './poll.js';
import { describeAnswer, type RegistryHttp, transientStatus } from './registry-http.js';

export interface ProvenanceCheck {
  url: string;
  predicateType: string;
  /** `repository/path@ref` of the workflow that built it, when the statement names one. */
  workflow?: string;
}

interface Statement {
  subject?: { name?: unknown; digest?: Record<string, unknown> }[];
  predicateType?: unknown;
  predicate?: { buildDefinition?: { externalParameters?: { workflow?: Record<string, unknown> } } };
}

/** The package URL npm puts in the provenance subject: `pkg:npm/%40scope/name@1.0.0`. */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

/**
 * Finds the SLSA provenance among the attestations the registry serves and checks that its subject is this
 * tarball: the purl of name@version with the tarball's SHA-512.
 */
export function provenanceSubjectProblem(
  body: unknown,
  expected: { name: string; version: string; sha512Hex: string },
): { problem?: string; predicateType?: string; workflow?: string } {
  const list = (body as { attestations?: unknown })?.attestations;
  if (!Array.isArray(list)) return { problem: 'the attestations document has no attestations list' };
  const slsa = list.find(
    (entry) =>
      typeof entry?.predicateType === 'string' && entry.predicateType.startsWith('https://slsa.dev/provenance/'),
  );
  if (!slsa) return { problem: 'no SLSA provenance attestation is served' };
  const payload = slsa.bundle?.dsseEnvelope?.payload;
  let statement: Statement;
  try {
    statement = JSON.parse(Buffer.from(String(payload), 'base64').toString('utf8')) as Statement;
  } catch {
    return { problem: 'the provenance envelope does not hold a JSON in-toto statement' };
  }
  const purl = npmPurl(expected.name, expected.version);
  const subjects = statement.subject ?? [];
  const match = subjects.find((subject) => subject.name === purl && subject.digest?.sha512 === expected.sha512Hex);
  if (!match) {
    const seen = subjects.map((subject) => `${String(subject.name)} sha512:${String(subject.digest?.sha512)}`);
    return {
      problem: `its subject is ${seen.join(', ') || 'empty'}, not ${purl} sha512:${expected.sha512Hex}`,
      predicateType: slsa.predicateType,
    };
  }
  const workflow = statement.predicate?.buildDefinition?.externalParameters?.workflow;
  const where =
    workflow && typeof workflow.repository === 'string'
      ? `${workflow.repository}/${String(workflow.path)}@${String(workflow.ref)}`
      : undefined;
  return where ? { predicateType: slsa.predicateType, workflow: where } : { predicateType: slsa.predicateType };
}

/** Reads `dist.attestations.url` of the published version and checks the provenance subject against the tarball. */
export async function checkProvenance(
  http: RegistryHttp,
  versionDoc: Record<string, unknown>,
  expected: { name: string; version: string; sha512Hex: string },
  options: PollOptions,
): Promise<ProvenanceCheck> {
  const id = `${expected.name}@${expected.version}`;
  const attestations = (versionDoc.dist as { attestations?: { url?: unknown } } | undefined)?.attestations;
  const url = typeof attestations?.url === 'string' ? attestations.url : '';
  if (!url) {
    throw new UserError(
      `${id} was published with --provenance, but the registry's version document has no dist.attestations: no provenance is attached.`,
    );
  }
  const body = await poll(
    `Reading the provenance of ${id}`,
    async (): Promise<Attempt<unknown>> => {
      const answer = await http.get(url);
      if (answer.status === 200) {
        try {
          return { value: JSON.parse(answer.body.toString('utf8')) };
        } catch {
          throw new UserError(`The attestations document of ${id} (${url}) is not JSON.`);
        }
      }
      if (answer.status === 404 || transientStatus(answer.status)) return { retry: describeAnswer(answer) };
      throw new UserError(`Reading the provenance of ${id} (${url}): the registry answered ${describeAnswer(answer)}.`);
    },
    options,
  );
  const found = provenanceSubjectProblem(body, expected);
  if (found.problem) throw new UserError(`The provenance of ${id} does not match the tarball: ${found.problem}.`);
  return { url, predicateType: found.predicateType ?? '', ...(found.workflow ? { workflow: found.workflow } : {}) };
}
