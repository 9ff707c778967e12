import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestContext } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN, readInvocations } from '../../../test/doubles/lib/harness.js';
import { recording } from '../../../test/doubles/recordings.js';
import {
  buildSarif,
  gateTrivyReport,
  readSbom,
  SEVERITIES,
  type Severity,
  sarifUri,
  syftDir,
  uniqueArtifactName,
  uploadFileArtifact,
} from '../src/index.js';
import { fixtureFiles, fixtureJson, fixtureText } from './fixtures.js';

describe('SARIF', () => {
  test.each(fixtureFiles('trivy').filter((n) => n.endsWith('.sarif')))(
    "levels and security-severity bands agree with Trivy's own SARIF (%s)",
    (name) => {
      const theirs = fixtureJson(`trivy/${name}`) as {
        version: string;
        runs: {
          results: { ruleId: string; level: string }[];
          tool: { driver: { rules: { id: string; properties: { tags: string[] } }[] } };
        }[];
      };
      expect(theirs.version).toBe('2.1.0');
      const rules = new Map(theirs.runs[0]?.tool.driver.rules.map((r) => [r.id, r.properties.tags.at(-1) as Severity]));
      const findings = (theirs.runs[0]?.results ?? []).map((r) => ({
        scanner: 'trivy' as const,
        id: r.ruleId,
        aliases: [],
        severity: rules.get(r.ruleId) as Severity,
        pkg: 'p',
        installed: '1',
        fixed: [],
        target: 't',
      }));
      const ours = buildSarif([
        { tool: 'Trivy', informationUri: 'https://github.com/aquasecurity/trivy', findings, locate: () => 'x' },
      ]) as typeof theirs;
      expect(ours.version).toBe('2.1.0');
      expect(ours.runs[0]?.results.map((r) => [r.ruleId, r.level])).toEqual(
        theirs.runs[0]?.results.map((r) => [r.ruleId, r.level]),
      );
    },
  );

  test('one rule per ID, one result per finding, locations as relative URIs', () => {
    const gate = gateTrivyReport(fixtureJson('trivy/image-alpine39-all-severities.json'), 'x', {
      severities: new Set(SEVERITIES),
      ignoreUnfixed: false,
    });
    const sarif = buildSarif([
      { tool: 'Trivy', informationUri: 'u', findings: gate.selected, locate: (f) => sarifUri(`./${f.target}`) },
    ]) as {
      runs: {
        results: { ruleIndex: number; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
        tool: { driver: { rules: { id: string }[] } };
      }[];
    };
    const run = sarif.runs[0];
    expect(run?.results).toHaveLength(6);
    expect(run?.tool.driver.rules.map((r) => r.id)).toEqual(['CVE-2019-1549', 'CVE-2019-1551', 'CVE-2019-14697']);
    expect(run?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toBe(
      'testdata/fixtures/images/alpine-39.tar.gz%20(alpine%203.9.4)',
    );
    expect(sarifUri('/abs/dir/package-lock.json')).toBe('abs/dir/package-lock.json');
  });
});

describe('Syft SBOMs: every fixture', () => {
  const EXPECTED: Record<string, { components: number; specVersion: string }> = {
    'alpine-image-syft-0.58.0.cdx.json': { components: 15, specVersion: '1.4' },
    'distroless-static-syft-0.58.0.cdx.json': { components: 3, specVersion: '1.4' },
    'rhel9-amq-streams-image-syft-1.6.0.cdx.json': { components: 192, specVersion: '1.5' },
  };

  test('the table covers every Syft fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtureFiles('syft'));
  });

  test.each(fixtureFiles('syft'))('%s: read as CycloneDX; refused as SPDX', (name) => {
    expect(readSbom(fixtureText(`syft/${name}`), 'cyclonedx-json', name)).toEqual({
      format: 'cyclonedx-json',
      ...EXPECTED[name],
    });
    expect(() => readSbom(fixtureText(`syft/${name}`), 'spdx-json', name)).toThrow(/is not spdx-json: no spdxVersion/);
  });

  // The double replays recordings of the pinned syft only (test/doubles/recordings.ts).
  const RECORDED: Record<string, number> = { 'npm-vulnerable': 5, 'alpine-amd64': 3 };
  test.each(Object.keys(RECORDED))(
    'recording %s: produced through the syft double with the real argv',
    async (name) => {
      const dir = mkdtempSync(join(tmpdir(), 'syft-'));
      const log = join(dir, 'log');
      const { ctx } = createTestContext(
        {},
        {
          env: {
            ...process.env,
            DOUBLE_LOG: log,
            SYFT_DOUBLE_FIXTURE: recording('syft', name),
            SYFT_EXCLUDE: './**',
          },
        },
      );
      const info = await syftDir(ctx, `${DOUBLES_BIN}/syft`, {
        path: dir,
        format: 'cyclonedx-json',
        output: join(dir, 'out', 'sbom.cdx.json'),
        workDir: join(dir, 'work'),
      });
      expect(info).toEqual({ format: 'cyclonedx-json', components: RECORDED[name], specVersion: '1.7' });
      const [call] = readInvocations(log);
      expect(call?.argv).toEqual(['scan', `dir:${dir}`, '-o', `cyclonedx-json=${join(dir, 'out', 'sbom.cdx.json')}`]);
      // The job's SYFT_* variables stay behind; the run has its own working directory.
      expect(call?.env).toEqual({ SYFT_CHECK_FOR_APP_UPDATE: 'false' });
      expect(call?.cwd).toBe(join(dir, 'work'));
    },
  );

  test('a Syft failure is an error naming the path', async () => {
    const { ctx } = createTestContext(
      {},
      { env: { ...process.env, SYFT_DOUBLE_FIXTURE: recording('syft', 'alpine-amd64') } },
    );
    await expect(
      syftDir(ctx, `${DOUBLES_BIN}/syft`, {
        path: '/nonexistent-dir',
        format: 'cyclonedx-json',
        output: '/tmp/x.json',
        workDir: mkdtempSync(join(tmpdir(), 'syft-')),
      }),
    ).rejects.toThrow(/Syft failed on \/nonexistent-dir \(exit code 1\)/);
  });
});

describe('artifacts', () => {
  test('unique names per job, attempt, runner and step; upload skipped off a runner', async () => {
    const env = {
      GITHUB_JOB: 'scan',
      GITHUB_RUN_ATTEMPT: '2',
      RUNNER_NAME: 'GitHub Actions 7',
      GITHUB_ACTION: '__run',
    };
    const a = uniqueArtifactName(env, 'sbom', 'app');
    expect(a).toMatch(/^sbom-scan-attempt2-[0-9a-f]{8}$/);
    expect(uniqueArtifactName({ ...env, RUNNER_NAME: 'GitHub Actions 8' }, 'sbom', 'app')).not.toBe(a);
    expect(uniqueArtifactName(env, 'sbom', 'other')).not.toBe(a);

    const calls: string[] = [];
    const upload = async (name: string) => {
      calls.push(name);
      return { id: 1 };
    };
    const off = createTestContext({}, { env: {} });
    expect(await uploadFileArtifact(off.ctx, a, '/tmp/f.json', upload)).toBe(false);
    expect(off.recorded.logs[0]).toMatch(/Not on a GitHub runner \(no ACTIONS_RUNTIME_TOKEN\)/);
    const on = createTestContext({}, { env: { ACTIONS_RUNTIME_TOKEN: 't' } });
    expect(await uploadFileArtifact(on.ctx, a, '/tmp/f.json', upload)).toBe(true);
    expect(calls).toEqual([a]);
    const failing = createTestContext({}, { env: { ACTIONS_RUNTIME_TOKEN: 't' } });
    expect(
      await uploadFileArtifact(failing.ctx, a, '/tmp/f.json', async () =>
        Promise.reject(new Error('Conflict: an artifact with this name already exists')),
      ),
    ).toBe(false);
    expect(failing.recorded.warnings[0]).toMatch(/Uploading artifact .* failed: Conflict/);
  });
});
