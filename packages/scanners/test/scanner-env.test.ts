// A scanner's whole environment: the job's host settings, a private HOME, the job's Docker config, the suite's own
// settings; nothing that configures the scanner, and no test hook (the doubles' controls reach them through the
// runner a test builds: packages/testkit double-controls.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { scannerEnv } from '../src/index.js';

describe('scannerEnv', () => {
  const home = join(mkdtempSync(join(tmpdir(), 'scanner-env-')), 'home');
  const job = {
    PATH: '/usr/bin',
    HTTPS_PROXY: 'http://proxy:3128',
    HOME: '/home/runner',
    TRIVY_SEVERITY: 'LOW',
    SYFT_EXCLUDE: './**',
    OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY: '/elsewhere',
    TRIVY_DOUBLE_FIXTURE: '/fixture.json',
    OSV_DOUBLE_NO_PACKAGES: '1',
    DOUBLE_LOG: '/log',
  };

  test('host settings, a private HOME and the job’s Docker config; the suite’s own settings last', () => {
    expect(scannerEnv(job, home, { SYFT_CHECK_FOR_APP_UPDATE: 'false' })).toEqual({
      PATH: '/usr/bin',
      HTTPS_PROXY: 'http://proxy:3128',
      DOCKER_CONFIG: '/home/runner/.docker',
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      SYFT_CHECK_FOR_APP_UPDATE: 'false',
    });
  });

  test('no variable of the tool doubles is handed on by product code', () => {
    const env = scannerEnv(job, home);
    expect(Object.keys(env).filter((name) => /DOUBLE/.test(name))).toEqual([]);
  });
});
