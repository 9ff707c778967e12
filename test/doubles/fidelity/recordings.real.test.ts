// Every recording the doubles replay carries the version of the real tool that made it (`npm run doubles:record`),
// and here, against the real binaries: the binary is the pinned version (a substitute fails, never skips on CI), each
// recording is of that version, and the binary still reports the same on the same input.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { realTool } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import {
  binaryVersion,
  pinnedVersion,
  RECORDING_KEY,
  RECORDINGS,
  type RecordedTool,
  recording,
  recordingInfo,
  runRecording,
} from '../recordings.js';

// biome-ignore lint/suspicious/noExplicitAny: the reports are read field by field, as the tools wrote them
type Json = { [key: string]: any };

/** What must stay the same between a recording and a fresh run: findings and structure, not times, IDs or paths. */
const SHAPES: Record<RecordedTool, (report: Json) => unknown> = {
  trivy: (r) => ({
    schema: r.SchemaVersion,
    version: r.Trivy?.Version,
    type: r.ArtifactType,
    os: r.Metadata?.OS,
    results: (r.Results ?? []).map((result: Json) => ({
      target: String(result.Target).replace(/^.*\//, ''),
      class: result.Class,
      type: result.Type,
      vulnerabilities: (result.Vulnerabilities ?? []).map((v: Json) => [
        v.VulnerabilityID,
        v.PkgName,
        v.InstalledVersion,
        v.FixedVersion,
        v.Severity,
        v.Status,
      ]),
      secrets: (result.Secrets ?? []).map((s: Json) => [s.RuleID, s.Severity, s.Title, s.StartLine]),
    })),
  }),
  'osv-scanner': (r) =>
    (r.results ?? []).map((result: Json) => ({
      source: basename(result.source.path),
      packages: result.packages.map((p: Json) => ({
        package: p.package,
        groups: p.groups.map((g: Json) => [g.ids, g.aliases, g.max_severity, g.experimental_analysis]),
        vulnerabilities: p.vulnerabilities.map((v: Json) => v.id),
      })),
    })),
  syft: (r) => ({
    format: r.bomFormat,
    spec: r.specVersion,
    tools: r.metadata?.tools,
    // A file component is named by its path in the run's scratch directory (golden-image-record-syft-XXXXXX when
    // recorded, golden-image-recording-check-syft-XXXXXX here, under whatever TMPDIR): compared by what it is, not where.
    components: (r.components ?? [])
      .map(
        (c: Json) =>
          `${c.type} ${String(c.name).replace(/^\/.*\/golden-image-record(?:ing-check)?-[^/]+\//, '<work>/')}@${c.version ?? ''}`,
      )
      .sort(),
  }),
};

const VERSION_ARGS: Record<RecordedTool, string[]> = {
  trivy: ['--version'],
  'osv-scanner': ['--version'],
  syft: ['version'],
};

for (const tool of ['trivy', 'osv-scanner', 'syft'] as const) {
  const bin = realTool(tool, VERSION_ARGS[tool]);
  const maybe = bin ? describe : describe.skip;
  maybe(`${tool}: the recordings the double replays`, () => {
    test(`the binary is the pinned ${tool} ${pinnedVersion(tool)}, the one users install`, () => {
      expect(binaryVersion(tool, bin as string)).toBe(pinnedVersion(tool));
    });

    test.each(RECORDINGS.filter((r) => r.tool === tool).map((r) => [r.name, r] as const))(
      '%s: recorded with this binary’s version, and still what it reports',
      async (_name, entry) => {
        const file = recording(tool, entry.name);
        expect(recordingInfo(file)).toMatchObject({
          tool,
          name: entry.name,
          version: binaryVersion(tool, bin as string),
        });
        const work = mkdtempSync(join(tmpdir(), `golden-image-recording-check-${tool}-`));
        try {
          const made = await runRecording(entry, bin as string, work);
          expect(made.output).toBeDefined();
          const { [RECORDING_KEY]: info, ...kept } = JSON.parse(readFileSync(file, 'utf8')) as Json;
          expect(made.command).toEqual(info.command);
          expect(SHAPES[tool](JSON.parse(made.output as string))).toEqual(SHAPES[tool](kept));
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    );
  });
}
