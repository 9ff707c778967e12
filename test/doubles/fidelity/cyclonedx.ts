// CycloneDX JSON schema validation for the real tier: the schema of the SBOM's own specVersion, as shipped by
// @cyclonedx/cyclonedx-library, checked with ajv. The few string formats the schemas use are registered here
// (ajv-formats is not a dependency).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';

const schemaDir = join(
  dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')),
  'res',
  'schema',
);
const readSchema = (file: string) => JSON.parse(readFileSync(join(schemaDir, file), 'utf8')) as object;

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function validatorFor(specVersion: string) {
  // The CycloneDX schemas carry keywords of their own (meta:enum...): strict mode would refuse them.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('date', (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('idn-email', (s: string) => /^[^\s@]+@[^\s@]+$/.test(s));
  ajv.addFormat('iri-reference', (s: string) => !/[\s<>"{}|\\^`]/u.test(s));
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  for (const ref of ['spdx', 'jsf-0.82', 'cryptography-defs'])
    ajv.addSchema(readSchema(`${ref}.SNAPSHOT.schema.json`), `http://cyclonedx.org/schema/${ref}.SNAPSHOT.schema.json`);
  return ajv.compile(readSchema(`bom-${specVersion}.SNAPSHOT.schema.json`));
}

/** The schema errors of a CycloneDX JSON document against the schema of its specVersion ([] when valid). */
export function cycloneDxErrors(bom: unknown): string[] {
  const specVersion = (bom as { specVersion?: unknown })?.specVersion;
  if (typeof specVersion !== 'string' || !/^1\.[2-7]$/.test(specVersion))
    return [`specVersion ${JSON.stringify(specVersion)} has no schema here`];
  const validate = validatorFor(specVersion);
  if (validate(bom)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
