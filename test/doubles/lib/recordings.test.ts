// The recordings directory holds exactly the catalogue's recordings (test/doubles/recordings.ts), each stamped with
// the tool, the pinned version and the command that made it: nothing a double replays comes from another version.
import { basename } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { pinnedVersion, RECORDINGS, recordedFiles, recordingFile, recordingInfo } from '../recordings.js';

describe('recordings', () => {
  test('every catalogue entry is recorded at the pinned version', () => {
    const missing = RECORDINGS.map((r) => recordingFile(r.tool, r.name)).filter(
      (file) => !recordedFiles().includes(file),
    );
    expect(missing.map((file) => basename(file))).toEqual([]);
  });

  test.each(recordedFiles().map((file) => [basename(file), file]))(
    '%s: a catalogue recording of the pinned version, with the command that made it',
    (_name, file) => {
      const info = recordingInfo(file);
      expect(info).toBeDefined();
      expect(RECORDINGS.some((r) => r.tool === info?.tool && r.name === info?.name)).toBe(true);
      expect(info?.version).toBe(pinnedVersion(info?.tool ?? 'trivy'));
      expect(file).toBe(recordingFile(info?.tool ?? 'trivy', info?.name ?? ''));
      expect(info?.command[0]).toBe(info?.tool);
      expect(info?.command.join(' ')).not.toMatch(/\/tmp\//);
    },
  );
});
