// The provenance check reads dist.attestations.url from the registry like any other read-back. Verdaccio serves no
// attestations, so the fault proxy answers that one URL: as npmjs.com would (a matching subject), or lying.
import {
  type FaultProxy,
  freePort,
  startFaultProxy,
  startVerdaccio,
  type TestNpmRegistry,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { checkProvenance, hashBytes, RegistryHttp, readBackPolicy, registryUrl } from '../src/index.js';

let registry: TestNpmRegistry;
let proxy: FaultProxy;
let http: RegistryHttp;

beforeAll(async () => {
  const port = await freePort();
  proxy = await startFaultProxy({ targetPort: port });
  registry = await startVerdaccio({ port });
  http = new RegistryHttp(registryUrl(`http://127.0.0.1:${proxy.port}/`), registry.token);
});

afterAll(async () => {
  await registry?.stop();
  await proxy?.close();
});

const tarball = hashBytes(Buffer.from('published bytes'));
const expected = { name: '@o/pkg', version: '1.0.0', sha512Hex: tarball.sha512Hex };
const path = '/-/npm/v1/attestations/@o%2fpkg@1.0.0';

function attestations(sha512: string) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'pkg:npm/%40o/pkg@1.0.0', digest: { sha512 } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  };
  const payload = Buffer.from(JSON.stringify(statement)).toString('base64');
  return Buffer.from(
    JSON.stringify({
      attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: { dsseEnvelope: { payload } } }],
    }),
  );
}

const options = { policy: { ...readBackPolicy({ GOLDEN_IMAGE_RETRY_DELAY_SCALE: '0.02' }), attempts: 3 } };
const versionDoc = () => ({ dist: { attestations: { url: `http://127.0.0.1:${proxy.port}${path}` } } });

describe('checkProvenance over HTTP', () => {
  test('a subject naming the tarball SHA-512 passes; another digest fails; no attestations at all fails', async () => {
    let serve = attestations(tarball.sha512Hex);
    proxy.rewrite(({ url }) => (url === path ? { status: 200, body: serve } : undefined));
    try {
      await expect(checkProvenance(http, versionDoc(), expected, options)).resolves.toMatchObject({
        predicateType: 'https://slsa.dev/provenance/v1',
      });
      serve = attestations(hashBytes(Buffer.from('other')).sha512Hex);
      await expect(checkProvenance(http, versionDoc(), expected, options)).rejects.toThrow(
        /The provenance of @o\/pkg@1\.0\.0 does not match the tarball: its subject is pkg:npm\/%40o\/pkg@1\.0\.0 sha512:/,
      );
    } finally {
      proxy.rewrite(undefined);
    }
    // Verdaccio itself: 404, retried within the policy, then reported.
    await expect(checkProvenance(http, versionDoc(), expected, options)).rejects.toThrow(
      /^Reading the provenance of @o\/pkg@1\.0\.0: HTTP 404.*still after 3 attempt\(s\)/,
    );
    await expect(checkProvenance(http, { dist: {} }, expected, options)).rejects.toThrow(/has no dist\.attestations/);
  });
});
