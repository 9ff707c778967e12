import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '@golden-image/kit';
import { readTarballManifest } from '@golden-image/npm';
import { createTestContext, RecordingRunner, startOidcIssuer, tempDir } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { fixturePackage, type NpmFixture } from '../../../test/fixtures/npm/fixtures.js';
import { main } from '../main.js';

/** pack-npm with the real npm, in a workspace holding the fixture package. */
async function pack(fixture: NpmFixture, inputs: Record<string, string> = {}) {
  const dir = fixturePackage(fixture);
  const runner = new RecordingRunner();
  const { ctx, recorded } = createTestContext(
    { path: basename(dir), ...inputs },
    { runner, env: { ...process.env, GITHUB_WORKSPACE: dirname(dir) } },
  );
  await main(ctx);
  return { dir, runner, recorded, outputs: recorded.outputs };
}

describe("pack-npm and the job's credentials", () => {
  /** A package whose prepack writes its whole environment next to it. */
  function envDumpingPackage(): string {
    const dir = tempDir('golden-image-pack-env-');
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'env-dump',
        version: '1.0.0',
        scripts: { prepack: "node -e \"require('fs').writeFileSync('env.json', JSON.stringify(process.env))\"" },
      }),
    );
    writeFileSync(join(dir, 'index.js'), 'module.exports = 1;\n');
    return dir;
  }
  const runtime = {
    ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    ACTIONS_RUNTIME_URL: 'http://127.0.0.1:9/runtime/',
    ACTIONS_CACHE_URL: 'http://127.0.0.1:9/cache/',
    ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/results/',
    NODE_AUTH_TOKEN: 'npm-token',
  };

  test("lifecycle scripts never see the job's Actions-service credentials or the npm token", async () => {
    const dir = envDumpingPackage();
    const { ctx } = createTestContext(
      { path: basename(dir) },
      { runner: new RecordingRunner(), env: { ...process.env, ...runtime, GITHUB_WORKSPACE: dirname(dir) } },
    );
    await main(ctx);
    const seen = JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) as Record<string, string>;
    for (const name of Object.keys(runtime)) expect(`${name}: ${seen[name] ?? 'absent'}`).toBe(`${name}: absent`);
    expect(seen.GITHUB_WORKSPACE).toBe(dirname(dir));
  });

  test('in a job that holds id-token: write, lifecycle scripts are refused before anything runs', async () => {
    const issuer = await startOidcIssuer();
    try {
      const dir = envDumpingPackage();
      const runner = new RecordingRunner();
      const { ctx } = createTestContext(
        { path: basename(dir) },
        { runner, env: { ...process.env, ...issuer.actionsEnv({ sub: 'x' }), GITHUB_WORKSPACE: dirname(dir) } },
      );
      await expect(main(ctx)).rejects.toThrow(/Input "lifecycle-scripts".*id-token: write/s);
      expect(runner.calls).toEqual([]);
      expect(existsSync(join(dir, 'env.json'))).toBe(false);
      // A runner that sets the variable in every job but refuses the token (act, with the workflow tier's
      // endpoint) does not count as holding it.
      const refused = createTestContext(
        { path: basename(dir) },
        {
          runner: new RecordingRunner(),
          env: { ...process.env, ...issuer.actionsEnvByJob(() => undefined), GITHUB_WORKSPACE: dirname(dir) },
        },
      );
      await main(refused.ctx);
      expect(existsSync(join(dir, 'env.json'))).toBe(true);
    } finally {
      await issuer.close();
    }
  });
});

describe('pack-npm (real npm pack)', () => {
  test('scoped, files allowlist, printing prepack: one tarball, hashes checked, name and version inside', async () => {
    const { outputs, runner, recorded } = await pack('scoped');
    expect(outputs.name).toBe('@golden-fixture/scoped');
    expect(outputs.version).toBe('2.1.0');
    expect(outputs.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(outputs.shasum).toMatch(/^[0-9a-f]{40}$/);
    // The allowlist keeps NOTES.txt and scripts/ out; npm always adds package.json.
    expect(JSON.parse(outputs.files ?? '[]').sort()).toEqual([
      'bin/cli.js',
      'lib/index.js',
      'lib/index.mjs',
      'package.json',
    ]);
    const tarball = outputs['tarball-path'] as string;
    expect(readdirSync(dirname(tarball))).toEqual([basename(tarball)]);
    const { manifest } = await readTarballManifest(tarball);
    expect(manifest.name).toBe('@golden-fixture/scoped');
    // The prepack printed lines that look like JSON before npm's own output, and pack-npm still read it right.
    const npmPack = runner.calls.find((call) => call.args[0] === 'pack');
    expect(npmPack?.stdout).toMatch(/^prepack: nothing to build\n\[\n\{"name":"not-the-pack-output"/);
    expect(npmPack?.args).toEqual(['pack', expect.any(String), '--json', '--pack-destination', dirname(tarball)]);
    expect(recorded.summary).toContain(outputs.integrity);
  });

  test('packing twice gives the same bytes (npm pins mtimes and order)', async () => {
    const first = await pack('simple');
    const second = await pack('simple');
    expect(second.outputs.integrity).toBe(first.outputs.integrity);
    expect(second.outputs['tarball-path']).not.toBe(first.outputs['tarball-path']);
  });

  test('a bundled dependency ships inside; a shrinkwrap ships too', async () => {
    const bundled = await pack('bundled');
    expect(JSON.parse(bundled.outputs.files ?? '[]')).toEqual(
      expect.arrayContaining(['node_modules/golden-vendored/package.json', 'node_modules/golden-vendored/index.js']),
    );
    const shrinkwrap = await pack('shrinkwrap');
    expect(JSON.parse(shrinkwrap.outputs.files ?? '[]')).toContain('npm-shrinkwrap.json');
  });

  test('lifecycle-scripts: false runs no script: prepublishOnly is not run and npm pack gets --ignore-scripts', async () => {
    const dir = fixturePackage('simple');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    manifest.scripts = { prepublishOnly: 'touch ran-prepublish', prepack: 'touch ran-prepack' };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    const quiet = new RecordingRunner();
    const off = createTestContext({ path: dir, 'lifecycle-scripts': 'false' }, { runner: quiet });
    await main(off.ctx);
    expect(quiet.calls.map((call) => call.args.filter((arg) => !arg.startsWith('/')))).toEqual([
      ['pack', '--json', '--pack-destination', '--ignore-scripts'],
    ]);
    expect(existsSync(join(dir, 'ran-prepublish')) || existsSync(join(dir, 'ran-prepack'))).toBe(false);
    const on = createTestContext({ path: dir }, { runner: new RecordingRunner() });
    await main(on.ctx);
    expect(existsSync(join(dir, 'ran-prepublish')) && existsSync(join(dir, 'ran-prepack'))).toBe(true);
    // Both ran before the tarball was made, so what they wrote is in it; with scripts off, nothing of theirs is.
    expect(JSON.parse(on.recorded.outputs.files ?? '[]')).toEqual(
      expect.arrayContaining(['ran-prepublish', 'ran-prepack']),
    );
    expect(JSON.parse(off.recorded.outputs.files ?? '[]')).not.toContain('ran-prepack');
  });

  test('bad inputs are named before anything runs', async () => {
    const runner = new RecordingRunner();
    const workspace = tempDir();
    for (const [inputs, message] of [
      [{ path: 'missing' }, /Input "path": .*missing is not a directory/],
      [{ path: '.', 'lifecycle-scripts': 'yes' }, /Input "lifecycle-scripts": must be true or false/],
      [{ path: '.' }, /Input "path": .* has no package\.json/],
    ] as const) {
      const { ctx } = createTestContext(inputs, { runner, env: { ...process.env, GITHUB_WORKSPACE: workspace } });
      const error = await main(ctx).catch((e: Error) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(message);
    }
    expect(runner.calls).toEqual([]);
  });
});
