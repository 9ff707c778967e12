import { describe, expect, test } from '@jest/globals';
import { hashBytes, npmPurl, provenanceSubjectProblem } from '../src/index.js';

const tarball = hashBytes(Buffer.from('the tarball'));

/** The attestations document the npm registry serves: a DSSE envelope whose payload is the in-toto statement. */
function attestations(subject: object[], predicateType = 'https://slsa.dev/provenance/v1') {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject,
    predicateType,
    predicate: {
      buildDefinition: {
        externalParameters: {
          workflow: { ref: 'refs/heads/main', repository: 'https://github.com/o/r', path: '.github/workflows/npm.yml' },
        },
      },
    },
  };
  return {
    attestations: [
      {
        predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
        bundle: { dsseEnvelope: { payload: Buffer.from('{}').toString('base64') } },
      },
      {
        predicateType,
        bundle: {
          dsseEnvelope: {
            payloadType: 'application/vnd.in-toto+json',
            payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
          },
        },
      },
    ],
  };
}

describe('provenanceSubjectProblem', () => {
  const expected = { name: '@scope/pkg', version: '1.2.3', sha512Hex: tarball.sha512Hex };

  test('the subject is the purl of name@version with the tarball SHA-512: accepted, workflow reported', () => {
    expect(npmPurl('@scope/pkg', '1.2.3')).toBe('pkg:npm/%40scope/pkg@1.2.3');
    const doc = attestations([{ name: 'pkg:npm/%40scope/pkg@1.2.3', digest: { sha512: tarball.sha512Hex } }]);
    expect(provenanceSubjectProblem(doc, expected)).toEqual({
      predicateType: 'https://slsa.dev/provenance/v1',
      workflow: 'https://github.com/o/r/.github/workflows/npm.yml@refs/heads/main',
    });
  });

  test('another digest, another version, or no SLSA statement is a problem, named', () => {
    const other = hashBytes(Buffer.from('other bytes')).sha512Hex;
    expect(
      provenanceSubjectProblem(
        attestations([{ name: 'pkg:npm/%40scope/pkg@1.2.3', digest: { sha512: other } }]),
        expected,
      ).problem,
    ).toContain(`not pkg:npm/%40scope/pkg@1.2.3 sha512:${tarball.sha512Hex}`);
    expect(
      provenanceSubjectProblem(
        attestations([{ name: 'pkg:npm/%40scope/pkg@1.2.4', digest: { sha512: tarball.sha512Hex } }]),
        expected,
      ).problem,
    ).toContain('pkg:npm/%40scope/pkg@1.2.4');
    expect(provenanceSubjectProblem(attestations([], 'https://example.com/other'), expected).problem).toBe(
      'no SLSA provenance attestation is served',
    );
    expect(provenanceSubjectProblem({}, expected).problem).toBe('the attestations document has no attestations list');
  });
});
