import { UserError } from '@golden-image/kit';
import { describe, expect, test } from '@jest/globals';
import { parsePackJson } from '../src/index.js';

const entry = {
  id: '@demo/x@1.0.0',
  name: '@demo/x',
  version: '1.0.0',
  size: 266,
  unpackedSize: 185,
  shasum: 'ea2f219b48294dcc39fb317e2ad862f7e5e3c93e',
  integrity: 'sha512-b1g9adfES1+1RAuOER42pZC+JH9E/mfc+GnCS84S7U6Odb5UOrC44P2ytDtFm/YwWUILm5p78C/H4oFmG1392A==',
  filename: 'demo-x-1.0.0.tgz',
  files: [
    { path: 'cli.js', size: 15, mode: 493 },
    { path: 'package.json', size: 170, mode: 420 },
  ],
  entryCount: 2,
  bundled: [],
};
// What npm 11.19.1 printed for `npm pack --json` of a package whose prepack echoes, as captured on this machine.
const npm11 = `${JSON.stringify([entry], null, 2)}\n`;
// npm 12 keys the output by package name, as `npm publish --json` already does (npm's pack.js: XXX(BREAKING_CHANGE)).
const npm12 = `${JSON.stringify({ [entry.name]: entry }, null, 2)}\n`;
const scripts = 'hello from prepack\n{"not":"json"}\n[\n{"name":"x","integrity":"sha512-x"}\nbye\n';

describe('parsePackJson', () => {
  test.each([
    ['npm 11 (array)', npm11],
    ['npm 12 (object keyed by name)', npm12],
    ['npm 11 after lifecycle-script output', scripts + npm11],
    ['npm 12 after lifecycle-script output', scripts + npm12],
    ['npm 11 with CRLF script output', `prepack\r\n${npm11}`],
  ])('%s', (_, stdout) => {
    expect(parsePackJson(stdout)).toEqual([entry]);
  });

  test('no package is an empty list (packDirectory then refuses: it needs exactly one)', () => {
    expect(parsePackJson('[]\n')).toEqual([]);
  });

  test('two packages (a workspace root) come back as two entries', () => {
    const other = { ...entry, name: 'y', id: 'y@1.0.0', filename: 'y-1.0.0.tgz' };
    expect(parsePackJson(JSON.stringify([entry, other]))).toHaveLength(2);
    expect(parsePackJson(JSON.stringify({ '@demo/x': entry, y: other }))).toHaveLength(2);
  });

  test.each([
    ['nothing', ''],
    ['only script output', scripts],
    ['JSON without integrity', JSON.stringify([{ ...entry, integrity: undefined }])],
    ['truncated JSON', npm11.slice(0, 200)],
  ])('%s is refused with the tail of the output', (_, stdout) => {
    const error = (() => {
      try {
        parsePackJson(stdout);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toMatch(/npm 11 prints an array, npm 12 an object keyed by package name/);
  });
});
