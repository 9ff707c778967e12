// actions/upload-artifact v4 and download-artifact v4 on the v3 artifact protocol (@actions/artifact 1.1.3,
// ACTIONS_RUNTIME_URL), the one act 0.2.89's artifact server takes (its v4 service answers 401: nektos/act#6021).
//
// v3 cannot delete an artifact, and uploading a name twice merges the files. To keep v4's semantics, each upload of a
// name is a generation of its own: the first is stored under the name itself, the next (overwrite: true) under
// `<name>~gen2`, `<name>~gen3`... Listing groups the generations by name and keeps the newest, so a download sees
// exactly the files of the last upload, as v4 does after a replacement.
import { request } from 'node:http';
import { isLoopback } from './loopback.js';

export interface StoredArtifact {
  /** The name the workflow gave it. */
  name: string;
  /** The v3 artifact holding the newest generation. */
  stored: string;
  generation: number;
}

const GENERATION = /^(.*)~gen(\d+)$/;

export function storedName(name: string, generation: number): string {
  return generation <= 1 ? name : `${name}~gen${generation}`;
}

/**
 * The run's artifacts by name, newest generation each. One GET, no retries: act's server answers a run that has no
 * artifact yet by dropping the connection (its handler panics on the missing directory), which here means "none".
 */
export async function listArtifacts(): Promise<Map<string, StoredArtifact>> {
  const base = process.env.ACTIONS_RUNTIME_URL;
  const token = process.env.ACTIONS_RUNTIME_TOKEN;
  const runId = process.env.GITHUB_RUN_ID;
  if (!base || !token || !runId) {
    throw new Error(
      'Unable to get ACTIONS_RUNTIME_URL, ACTIONS_RUNTIME_TOKEN or GITHUB_RUN_ID env variable (run act with --artifact-server-path)',
    );
  }
  const url = new URL(
    `${base.replace(/\/?$/, '/')}_apis/pipelines/workflows/${runId}/artifacts?api-version=6.0-preview`,
  );
  if (!isLoopback(url.hostname)) {
    throw new Error(
      `the artifact server ${url.host} is not on loopback (pass --artifact-server-addr 127.0.0.1 to act)`,
    );
  }
  const body = await new Promise<string | undefined>((resolve, reject) => {
    const req = request(
      url,
      { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json;api-version=6.0-preview' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          (res.statusCode ?? 500) < 300
            ? resolve(text)
            : reject(new Error(`List Artifacts answered ${res.statusCode}: ${text.slice(0, 200)}`)),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || /socket hang up/.test(error.message) ? resolve(undefined) : reject(error),
    );
    req.end();
  });
  const artifacts = new Map<string, StoredArtifact>();
  if (body === undefined) return artifacts;
  const listed = JSON.parse(body) as { value?: { name: string }[] | null };
  for (const { name: stored } of listed.value ?? []) {
    const match = GENERATION.exec(stored);
    const name = match?.[1] ?? stored;
    const generation = match ? Number(match[2]) : 1;
    const known = artifacts.get(name);
    if (!known || known.generation < generation) artifacts.set(name, { name, stored, generation });
  }
  return artifacts;
}

/** v4's artifact name rule (the v3 client checks the same characters). */
export function checkArtifactName(name: string): void {
  const invalid = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'].filter((c) => name.includes(c));
  if (!name) throw new Error('Provided artifact name input during validation is empty');
  if (invalid.length > 0) {
    throw new Error(
      `The artifact name is not valid: ${name}. Contains the following character: ${invalid.map((c) => JSON.stringify(c)).join(' ')}`,
    );
  }
}
