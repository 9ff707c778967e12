// `npm run doubles:record [tool…]`: re-records every recording the tool doubles replay (test/doubles/recordings.ts)
// from the real tools of `npm run tools:real`, offline, each file stamped with the tool, its version and the command.
// It refuses a binary that is not the pinned version: a recording is only worth what the real tier checks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realTool } from '@golden-image/testkit';
import {
  binaryVersion,
  pinnedVersion,
  RECORDINGS,
  type RecordedTool,
  recordedFiles,
  recordingFile,
  recordingInfo,
  runRecording,
  withRecordingInfo,
} from '../test/doubles/recordings.js';

/** The exit codes a run that made its output ends with (OSV-Scanner: 1 means findings). */
const OK: Record<RecordedTool, number[]> = { trivy: [0], 'osv-scanner': [0, 1], syft: [0] };

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const tools = [...new Set(RECORDINGS.map((r) => r.tool))].filter((t) => wanted.length === 0 || wanted.includes(t));
  let failed = 0;
  for (const tool of tools) {
    const bin = realTool(tool, tool === 'syft' ? ['version'] : ['--version']);
    const pinned = pinnedVersion(tool);
    const version = bin ? binaryVersion(tool, bin) : undefined;
    if (!bin || version !== pinned) {
      console.error(
        `${tool}: ${bin ? `the binary is ${version ?? 'of no readable version'}` : 'missing'}, the pin is ${pinned}: run npm run tools:real ${tool}`,
      );
      failed++;
      continue;
    }
    for (const recording of RECORDINGS.filter((r) => r.tool === tool)) {
      const work = mkdtempSync(join(tmpdir(), `golden-image-record-${tool}-`));
      try {
        const made = await runRecording(recording, bin, work);
        if (!made.output || !OK[tool].includes(made.code ?? -1)) {
          console.error(
            `${tool} ${recording.name}: exit ${made.code}, ${made.output ? 'output written' : 'no output'}\n${made.stderr.slice(-2000)}`,
          );
          failed++;
          continue;
        }
        const file = recordingFile(tool, recording.name);
        writeFileSync(
          file,
          withRecordingInfo(made.output, { tool, version, name: recording.name, command: made.command }),
        );
        // Recordings of this name by another version are stale: the doubles replay the pinned one only.
        for (const other of recordedFiles()) {
          const info = recordingInfo(other);
          if (other !== file && info?.tool === tool && info.name === recording.name) rmSync(other);
        }
        console.log(`  ${tool} ${version} ${recording.name.padEnd(28)} ${file}`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  }
  if (failed) {
    console.error(`${failed} recording(s) or tool(s) failed.`);
    process.exitCode = 1;
  }
}

await main();
