import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { type RunOptions, type RunResult, type ToolRunner, UserError } from '@golden-image/kit';
import { hashBytes, type PackResult, packDirectory } from '@golden-image/npm';
import {
  createTestContext,
  everythingPrinted,
  type FaultProxy,
  freePort,
  RecordingRunner,
  startFaultProxy,
  startVerdaccio,
  type TestNpmRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { fixturePackage, type NpmFixture } from '../../../test/fixtures/npm/fixtures.js';
import { main } from '../main.js';

let registry: TestNpmRegistry;
let proxy: FaultProxy;
/** The registry through the fault proxy; Verdaccio writes this URL into dist.tarball, so downloads go through it too. */
let proxied: string;

beforeAll(async () => {
  const port = await freePort();
  proxy = await startFaultProxy({ targetPort: port });
  proxied = `http://127.0.0.1:${proxy.port}/`;
  registry = await startVerdaccio({ port, publicUrl: proxied });
});

afterAll(async () => {
  await registry?.stop();
  await proxy?.close();
});

/** A fixture packed with the real npm at the given version (each test publishes versions of its own). */
async function packed(fixture: NpmFixture, version: string, edit?: (manifest: Record<string, unknown>) => void) {
  const dir = fixturePackage(fixture);
  const file = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  manifest.version = version;
  edit?.(manifest);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  const { ctx } = createTestContext({}, { runner: new RecordingRunner() });
  return packDirectory(ctx, { dir, scripts: false });
}

const fast = { GOLDEN_IMAGE_RETRY_DELAY_SCALE: '0.02' };

async function publish(
  tarball: PackResult,
  inputs: Record<string, string> = {},
  options: { env?: NodeJS.ProcessEnv; runner?: ToolRunner } = {},
) {
  const runner = new RecordingRunner(options.runner);
  const temp = tempDir();
  const { ctx, recorded } = createTestContext(
    {
      'tarball-path': tarball.tarballPath,
      integrity: tarball.integrity,
      registry: registry.url,
      tag: 'latest',
      token: registry.token,
      ...inputs,
    },
    { runner, env: { ...process.env, ...fast, ...options.env }, tempDir: temp },
  );
  const error = await main(ctx).then(
    () => undefined,
    (e: Error) => e,
  );
  const publishes = runner.calls.filter((call) => call.args[0] === 'publish');
  return { error, recorded, outputs: recorded.outputs, runner, publishes, temp };
}

/** Every file the step left in its temp directory that holds `secret`. */
function leftWith(dir: string, secret: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file, 'utf8').includes(secret));
}

type Served = {
  'dist-tags'?: Record<string, string>;
  versions: Record<string, { dist: { integrity: string } } | undefined>;
};

async function packument(name: string): Promise<{ status: number; body: Served }> {
  const answer = await fetch(new URL(name.replace('/', '%2f'), registry.url));
  return { status: answer.status, body: answer.status === 200 ? ((await answer.json()) as Served) : { versions: {} } };
}

describe('publish-npm against a real registry (Verdaccio)', () => {
  test('round trip: published by path, read back (integrity, shasum, bytes, version document, dist-tag)', async () => {
    const tarball = await packed('simple', '1.0.0');
    const { error, outputs, recorded, publishes } = await publish(tarball);
    expect(error).toBeUndefined();
    expect(outputs).toMatchObject({
      integrity: tarball.integrity,
      name: 'golden-fixture-simple',
      version: '1.0.0',
      published: 'true',
      tag: 'latest',
      provenance: 'false',
      'tarball-url': `${proxied}golden-fixture-simple/-/golden-fixture-simple-1.0.0.tgz`,
    });
    expect(publishes).toHaveLength(1);
    expect(publishes[0]?.args).toEqual([
      'publish',
      tarball.tarballPath,
      '--registry',
      registry.url,
      '--tag',
      'latest',
      '--access',
      'public',
      '--provenance=false',
      '--ignore-scripts',
      '--dry-run=false',
    ]);
    const served = await packument('golden-fixture-simple');
    expect(served.body['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(served.body.versions['1.0.0']?.dist.integrity).toBe(tarball.integrity);
    expect(recorded.summary).toContain('dist.integrity, dist.shasum and the downloaded bytes match');
    expect(everythingPrinted(recorded)).not.toContain(registry.token);
  });

  test('a re-run with the same tarball is success without publishing; other bytes under that version fail before npm runs', async () => {
    const tarball = await packed('simple', '1.1.0');
    expect((await publish(tarball)).outputs.published).toBe('true');
    // A path relative to the workspace, as a workflow would pass it.
    const again = await publish(
      tarball,
      { 'tarball-path': basename(tarball.tarballPath) },
      { env: { GITHUB_WORKSPACE: dirname(tarball.tarballPath) } },
    );
    expect(again.error).toBeUndefined();
    expect(again.outputs.published).toBe('false');
    expect(again.publishes).toEqual([]);

    const other = await packed('simple', '1.1.0', (manifest) => {
      manifest.description = 'other bytes, same version';
    });
    expect(other.integrity).not.toBe(tarball.integrity);
    const refused = await publish(other);
    expect(refused.error).toBeInstanceOf(UserError);
    expect(refused.error?.message).toContain(
      `golden-fixture-simple@1.1.0 is already published in ${registry.url} with other bytes (integrity ${tarball.integrity}`,
    );
    expect(refused.publishes).toEqual([]);
  });

  test('dry-run: checks everything, runs npm publish --dry-run on the file with no token, and publishes nothing', async () => {
    const tarball = await packed('simple', '1.9.7');
    const dry = await publish(tarball, { 'dry-run': 'true', token: '' });
    expect(dry.error).toBeUndefined();
    expect(dry.outputs).toMatchObject({ published: 'false', 'dry-run': 'true', 'tarball-url': '' });
    expect(dry.publishes).toHaveLength(1);
    expect(dry.publishes[0]?.args).toEqual(
      expect.arrayContaining([tarball.tarballPath, '--dry-run=true', '--provenance=false', '--tag', 'latest']),
    );
    expect(dry.recorded.summary).toContain('npm would publish this tarball; nothing was published');
    const served = await fetch(`${registry.url}golden-fixture-simple`).then((r) => r.json() as Promise<Served>);
    expect(served.versions?.['1.9.7']).toBeUndefined();

    // After the real publish, a dry run says a publish would be a re-run; other bytes under that version fail.
    expect((await publish(tarball)).outputs.published).toBe('true');
    const again = await publish(tarball, { 'dry-run': 'true', token: '' });
    expect(again.publishes).toEqual([]);
    expect(again.recorded.summary).toContain('a publish would be a re-run');
    const other = await packed('simple', '1.9.7', (manifest) => {
      manifest.description = 'other bytes';
    });
    const refused = await publish(other, { 'dry-run': 'true', token: '' });
    expect(refused.error?.message).toMatch(
      /^Dry run: golden-fixture-simple@1\.9\.7 is already published in .* with other bytes .*so a publish would fail/,
    );
  });

  test("the tarball's publishConfig (tag, access, registry, scope registry) never wins over the inputs", async () => {
    const tarball = await packed('scoped', '2.1.0');
    const unsaid = await publish(tarball, { tag: 'next' });
    expect(unsaid.error?.message).toMatch(
      /^Input "access": @golden-fixture\/scoped is scoped, so say public or restricted/,
    );
    expect(unsaid.runner.calls).toEqual([]);
    const { error, outputs, recorded, publishes } = await publish(tarball, { tag: 'next', access: 'public' });
    expect(error).toBeUndefined();
    expect(outputs.tag).toBe('next');
    expect(publishes[0]?.args).toContain(`--@golden-fixture:registry=${registry.url}`);
    const served = await packument('@golden-fixture/scoped');
    // Verdaccio gives the first version `latest` as well; publishConfig.tag "from-the-tarball" is nowhere.
    expect(served.body['dist-tags']).toEqual({ next: '2.1.0', latest: '2.1.0' });
    expect(recorded.warnings.join('\n')).toMatch(
      /publishConfig\.registry \("http:\/\/127\.0\.0\.1:9\/"\) is overridden/,
    );
    expect(recorded.summary).toContain('publishConfig overridden');
  });

  test('a publishConfig key that would change how npm publishes (proxy) is refused before npm runs', async () => {
    const tarball = await packed('simple', '1.2.0', (manifest) => {
      manifest.publishConfig = { proxy: 'http://127.0.0.1:9', tag: 'x' };
    });
    const { error, publishes } = await publish(tarball);
    expect(error?.message).toMatch(/publishConfig sets "proxy", which npm would apply to the publish/);
    expect(publishes).toEqual([]);
    expect((await packument('golden-fixture-simple')).body.versions['1.2.0']).toBeUndefined();
  });

  test('a concurrent run that publishes the same bytes first is success; other bytes first is a failure', async () => {
    const tarball = await packed('simple', '1.4.0');
    const other = await packed('simple', '1.5.0');
    const twin = await packed('simple', '1.5.0', (manifest) => {
      manifest.description = 'published by the other run';
    });
    // The other run's npm publish lands between publish-npm's existence check and its own npm publish.
    const racing = (first: PackResult): ToolRunner => ({
      run: async (tool, args, options) => {
        const real = new RecordingRunner();
        if (args[0] === 'publish') await real.run(tool, ['publish', first.tarballPath, ...args.slice(2)], options);
        return real.run(tool, args, options);
      },
    });
    const same = await publish(tarball, {}, { runner: racing(tarball) });
    expect(same.error).toBeUndefined();
    expect(same.outputs.published).toBe('false');
    expect(same.recorded.logs.join('\n')).toContain('published concurrently');
    const lost = await publish(other, {}, { runner: racing(twin) });
    expect(lost.error?.message).toBe(
      `golden-fixture-simple@1.5.0 was published in ${registry.url} by someone else meanwhile, with other bytes (integrity ${twin.integrity}; this tarball is ${other.integrity}). npm publish failed (exit code 1).`,
    );
  });

  test('inputs are checked before anything runs, each named', async () => {
    const tarball = await packed('simple', '1.3.0');
    const cases: [Record<string, string>, RegExp][] = [
      [{ tag: '' }, /Input "tag": is required/],
      [{ tag: '1.x' }, /Input "tag": must not be a version or semver range/],
      [{ tag: 'a b' }, /Input "tag": must be URL-safe/],
      [{ integrity: 'sha1-abc' }, /Input "integrity": must be the tarball's SHA-512 in SRI form/],
      [{ registry: 'http://registry.example.com/' }, /Input "registry": must be https/],
      [{ registry: 'https://user:pw@registry.example.com/' }, /Input "registry": must not carry a user name/],
      [{ access: 'private' }, /Input "access": must be public or restricted/],
      [{ provenance: 'yes' }, /Input "provenance": must be one of auto, true, false/],
      [{ access: 'restricted' }, /Input "access": golden-fixture-simple is not scoped/],
      [{ provenance: 'true' }, /Input "provenance": true needs a GitHub OIDC token .* id-token: write/],
      [{ token: '' }, /Input "token": empty, and this job has no GitHub OIDC token for npm trusted publishing/],
      [
        { integrity: hashBytes(Buffer.from('other')).integrity },
        /Input "integrity": the tarball .* hashes to sha512-.*, not sha512-/,
      ],
    ];
    for (const [inputs, message] of cases) {
      const { error, runner } = await publish(tarball, inputs, { env: { ACTIONS_ID_TOKEN_REQUEST_URL: '' } });
      expect(error).toBeInstanceOf(UserError);
      expect(error?.message).toMatch(message);
      expect(runner.calls).toEqual([]);
    }
    expect((await packument('golden-fixture-simple')).body.versions['1.3.0']).toBeUndefined();
  });
});

describe('publish-npm: a registry that lies or stumbles, through the fault proxy', () => {
  const versionDocOf = (body: Buffer, version: string) => {
    const doc = JSON.parse(body.toString('utf8'));
    return { doc, entry: doc.versions?.[version] };
  };
  // npm writes @scope%2fname, publish-npm @scope%2Fname: the same path.
  const isPackument = (method: string, url: string, name: string) =>
    method === 'GET' && url.split('?')[0]?.toLowerCase() === `/${name.replace('/', '%2f')}`;

  test('a rewritten dist.integrity is caught', async () => {
    const tarball = await packed('simple', '2.0.0');
    const forged = hashBytes(Buffer.from('forged')).integrity;
    proxy.rewrite(({ method, url, body }) => {
      if (!isPackument(method, url, 'golden-fixture-simple')) return undefined;
      const { doc, entry } = versionDocOf(body, '2.0.0');
      if (!entry) return undefined;
      entry.dist.integrity = forged;
      return { body: Buffer.from(JSON.stringify(doc)) };
    });
    try {
      const { error, publishes } = await publish(tarball, { registry: proxied });
      expect(publishes).toHaveLength(1);
      expect(error?.message).toContain(
        `The registry serves golden-fixture-simple@2.0.0 with integrity ${forged} and shasum ${tarball.shasum}, but the tarball has ${tarball.integrity}`,
      );
    } finally {
      proxy.rewrite(undefined);
    }
  });

  test('altered tarball bytes are caught by re-hashing the download', async () => {
    const tarball = await packed('simple', '2.1.0');
    proxy.rewrite(({ method, url, body }) => {
      if (method !== 'GET' || !url.endsWith('/golden-fixture-simple-2.1.0.tgz')) return undefined;
      const altered = Buffer.from(body);
      altered[altered.length - 1] = (altered.at(-1) ?? 0) ^ 0xff;
      return { body: altered };
    });
    try {
      const { error } = await publish(tarball, { registry: proxied });
      expect(error?.message).toMatch(
        /The tarball the registry serves for golden-fixture-simple@2\.1\.0 \(.*golden-fixture-simple-2\.1\.0\.tgz\) hashes to sha512-/,
      );
    } finally {
      proxy.rewrite(undefined);
    }
  });

  test('an altered dependency list in the version document is caught', async () => {
    const tarball = await packed('scoped', '3.0.0');
    proxy.rewrite(({ method, url, body }) => {
      if (!isPackument(method, url, '@golden-fixture/scoped')) return undefined;
      const { doc, entry } = versionDocOf(body, '3.0.0');
      if (!entry) return undefined;
      entry.dependencies = { ...entry.dependencies, 'evil-helper': '^6.6.6' };
      entry.scripts = { ...entry.scripts, postinstall: 'node -e "evil()"' };
      return { body: Buffer.from(JSON.stringify(doc)) };
    });
    try {
      const { error } = await publish(tarball, { registry: proxied, tag: 'next', access: 'public' });
      expect(error?.message).toContain("The registry's version document for @golden-fixture/scoped@3.0.0 disagrees");
      expect(error?.message).toContain(
        '- dependencies.evil-helper: the registry serves "^6.6.6", the tarball has (absent)',
      );
      expect(error?.message).toContain(
        '- installScripts.postinstall: the registry serves "node -e \\"evil()\\"", the tarball has (absent)',
      );
    } finally {
      proxy.rewrite(undefined);
    }
  });

  test('404 then 200 after the publish (a lagging packument) is waited for, bounded and counted', async () => {
    const tarball = await packed('simple', '2.2.0');
    let published = false;
    let hidden = 0;
    proxy.rewrite(({ method, url, status }) => {
      if (method === 'PUT' && status < 300) published = true;
      if (!published || !isPackument(method, url, 'golden-fixture-simple') || hidden >= 3) return undefined;
      hidden++;
      return { status: 404, body: Buffer.from('{"error":"not found"}') };
    });
    try {
      const { error, outputs, recorded } = await publish(tarball, { registry: proxied });
      expect(error).toBeUndefined();
      expect(outputs.published).toBe('true');
      expect(hidden).toBe(3);
      expect(recorded.logs.filter((line) => /the package is not found \(HTTP 404\); retry/.test(line))).toHaveLength(3);
      expect(recorded.summary).toMatch(/Registry retries \| 3 \|/);
    } finally {
      proxy.rewrite(undefined);
    }
  });

  test('5xx answers are retried; a registry that keeps failing fails the step after bounded attempts', async () => {
    const tarball = await packed('simple', '2.3.0');
    let faults = 0;
    proxy.intercept((method, url) => {
      if (method === 'GET' && url.includes('golden-fixture-simple-2.3.0.tgz') && faults < 2) {
        faults++;
        return faults === 1 ? '503' : '502';
      }
      return undefined;
    });
    try {
      const { error, recorded } = await publish(tarball, { registry: proxied });
      expect(error).toBeUndefined();
      expect(faults).toBe(2);
      expect(recorded.logs.join('\n')).toMatch(/HTTP 503.*retry 1 in/);
    } finally {
      proxy.intercept(undefined);
    }

    const stuck = await packed('simple', '2.4.0');
    proxy.intercept((method, url) =>
      method === 'GET' && url.includes('golden-fixture-simple-2.4.0.tgz') ? '500' : undefined,
    );
    try {
      const { error } = await publish(stuck, { registry: proxied });
      expect(error?.message).toMatch(
        /^Downloading .*golden-fixture-simple-2\.4\.0\.tgz: HTTP 500, still after 10 attempt\(s\) over \d+ s\.$/,
      );
    } finally {
      proxy.intercept(undefined);
    }
  });
});

/** A stand-in for GitHub's OIDC token endpoint: answers `?audience=...` with a JWT-shaped token, recording audiences. */
async function oidcEndpoint(): Promise<{ url: string; audiences: string[]; close: () => Promise<void> }> {
  const audiences: string[] = [];
  const server: Server = createServer((req, res) => {
    const audience = new URL(req.url ?? '/', 'http://x').searchParams.get('audience') ?? '';
    audiences.push(audience);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const jwt = `${part({ alg: 'RS256' })}.${part({ aud: audience, repository: 'o/r' })}.c2ln`;
    res.writeHead(req.headers.authorization === 'Bearer request-token' ? 200 : 401, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ value: jwt }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
  return { url, audiences, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('publish-npm: trusted publishing and provenance', () => {
  let oidc: Awaited<ReturnType<typeof oidcEndpoint>>;
  let oidcEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    oidc = await oidcEndpoint();
    oidcEnv = {
      GITHUB_ACTIONS: 'true',
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
    };
  });
  afterAll(async () => {
    await oidc?.close();
  });

  test('a refused token exchange fails the step; a token lying around in the job is not used instead', async () => {
    const tarball = await packed('simple', '3.0.0');
    const home = tempDir();
    writeFileSync(join(home, '.npmrc'), `//127.0.0.1:${registry.port}/:_authToken=${registry.token}\n`);
    const { error, publishes } = await publish(
      tarball,
      { token: '' },
      { env: { ...oidcEnv, HOME: home, NODE_AUTH_TOKEN: registry.token, NPM_TOKEN: registry.token } },
    );
    expect(oidc.audiences.at(-1)).toBe('npm:127.0.0.1');
    expect(error?.message).toMatch(
      /^npm trusted publishing: the registry refused to exchange the GitHub OIDC token for a publish token for golden-fixture-simple \(HTTP 404 \(an HTML page\)\)\. .*never falls back to another token/,
    );
    expect(publishes).toEqual([]);
    expect((await packument('golden-fixture-simple')).body.versions['3.0.0']).toBeUndefined();
  });

  test('an exchange the registry answers is used: npm publishes with the exchanged token, which is masked', async () => {
    const tarball = await packed('simple', '3.1.0');
    proxy.rewrite(({ method, url }) =>
      method === 'POST' && url === '/-/npm/v1/oidc/token/exchange/package/golden-fixture-simple'
        ? { status: 201, body: Buffer.from(JSON.stringify({ token: registry.token })) }
        : undefined,
    );
    try {
      const { error, outputs, recorded, temp } = await publish(
        tarball,
        { token: '', registry: proxied, provenance: 'auto' },
        { env: oidcEnv },
      );
      expect(error).toBeUndefined();
      expect(outputs).toMatchObject({ published: 'true', provenance: 'false' });
      expect(recorded.secrets).toContain(registry.token);
      // the GitHub OIDC token sent to the exchange is masked too, and no .npmrc with the publish token stays
      expect(recorded.secrets.filter((value) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value))).toHaveLength(1);
      expect(leftWith(temp, registry.token)).toEqual([]);
      expect(recorded.summary).toContain('npm trusted publishing (GitHub OIDC)');
      // provenance: auto stays off for a registry other than registry.npmjs.org, even with OIDC.
      expect(recorded.logs.join('\n')).toContain('is not the public npm registry, so no provenance statement');
    } finally {
      proxy.rewrite(undefined);
    }
  });

  test('provenance: true with OIDC passes --provenance=true and the OIDC variables to npm, and reports npm failing', async () => {
    const tarball = await packed('simple', '3.2.0');
    const seen: { args: readonly string[]; env?: NodeJS.ProcessEnv; npmrc?: string }[] = [];
    // Sigstore is out of reach here, so npm publish itself is not run: its argv and environment are what is checked.
    const runner: ToolRunner = {
      run: async (tool: string, args: readonly string[], options?: RunOptions): Promise<RunResult> => {
        if (args[0] === 'publish') {
          const npmrc = readFileSync(options?.env?.npm_config_userconfig as string, 'utf8');
          seen.push({ args, env: options?.env, npmrc });
          return { exitCode: 1, stdout: Buffer.alloc(0), stderr: 'npm error code EUNREACHABLE sigstore\n' };
        }
        return new RecordingRunner().run(tool, args, options);
      },
    };
    const { error } = await publish(tarball, { provenance: 'true' }, { env: oidcEnv, runner });
    expect(seen[0]?.args).toContain('--provenance=true');
    expect(seen[0]?.env?.ACTIONS_ID_TOKEN_REQUEST_URL).toBe(oidc.url);
    expect(seen[0]?.env?.NODE_AUTH_TOKEN).toBeUndefined();
    expect(seen[0]?.npmrc).toBe(`//127.0.0.1:${registry.port}/:_authToken=${registry.token}\n`);
    // and it is gone once npm publish has run
    expect(existsSync(seen[0]?.env?.npm_config_userconfig as string)).toBe(false);
    expect(error?.message).toMatch(
      /npm publish of golden-fixture-simple@3\.2\.0 .* failed \(exit code 1\): npm error code EUNREACHABLE/,
    );

    // Without provenance the OIDC variables stay away from npm, so npm cannot switch credentials by itself.
    const plain = await publish(tarball, { provenance: 'false' }, { env: oidcEnv, runner });
    expect(plain.error).toBeInstanceOf(UserError);
    expect(seen[1]?.args).toContain('--provenance=false');
    expect(seen[1]?.env?.ACTIONS_ID_TOKEN_REQUEST_URL).toBeUndefined();
  });
});
