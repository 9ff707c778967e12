// The versions the doubles stand for, and what they replay: recordings of the real tool at the version the suite pins (test/doubles/recordings.ts,
// `npm run doubles:record`), never another version's output. The version a double stands for is read from the pins
// themselves (packages/tools/src/pins.ts); test/doubles/lib/recordings.test.ts checks this reading against PINS.
import { readFileSync } from 'node:fs';
import { die } from './argv.mjs';

export const RECORDING_KEY = 'golden-image-recording';
const PINS_TS = new URL('../../../packages/tools/src/pins.ts', import.meta.url);

/** The pinned default version of a tool, as packages/tools/src/pins.ts spells it. */
export function pinnedVersion(tool) {
  const source = readFileSync(PINS_TS, 'utf8');
  const key = /^[a-z]+$/.test(tool) ? tool : `'${tool}'`;
  const start = source.indexOf(`\n  ${key}: {`);
  if (start < 0) throw new Error(`no pin for ${tool} in packages/tools/src/pins.ts`);
  const version = /defaultVersion: '([^']+)'/.exec(source.slice(start))?.[1];
  if (!version) throw new Error(`no defaultVersion for ${tool} in packages/tools/src/pins.ts`);
  return version;
}

const CATALOGUE_TS = new URL('../../../script/real-tools/catalogue.ts', import.meta.url);

/** The version `npm run tools:real` builds of a tool outside the suite's pins (script/real-tools/catalogue.ts). */
export function catalogueVersion(bin) {
  const source = readFileSync(CATALOGUE_TS, 'utf8');
  const start = source.indexOf(`bin: '${bin}'`);
  if (start < 0) throw new Error(`no ${bin} in script/real-tools/catalogue.ts`);
  const version = /version: '([^']+)'/.exec(source.slice(start))?.[1];
  if (!version) throw new Error(`no version for ${bin} in script/real-tools/catalogue.ts`);
  return version;
}

/**
 * The tool output of a recording, without the recording's own key. Anything else (a file from another version of
 * the tool, or output not made by `npm run doubles:record`) is refused with `code`, as a real tool refuses bad input.
 */
export function readRecording(tool, file, code) {
  const version = pinnedVersion(tool);
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    die(`the ${tool} double cannot read ${file}: ${error.message}`, code);
  }
  const info = parsed?.[RECORDING_KEY];
  if (!info)
    die(
      `the ${tool} double replays recordings of ${tool} ${version} only (npm run doubles:record); ${file} is not one`,
      code,
    );
  if (info.tool !== tool || info.version !== version)
    die(
      `the ${tool} double stands for ${tool} ${version}; ${file} was recorded with ${info.tool} ${info.version}`,
      code,
    );
  const { [RECORDING_KEY]: _info, ...output } = parsed;
  return output;
}
