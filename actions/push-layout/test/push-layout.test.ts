import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Digest } from '@golden-image/oci';
import { Skopeo } from '@golden-image/oci-registry';
import {
  buildLayout,
  createTestContext,
  everythingPrinted,
  RecordingRunner,
  startRegistry,
  type TestRegistry,
  tempDir,
  untarBuildxLayout,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { main } from '../main.js';

let registry: TestRegistry;
let authRegistry: TestRegistry;
beforeAll(async () => {
  [registry, authRegistry] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { username: 'ci', password: 's3cret-Pa55' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([registry?.stop(), authRegistry?.stop()]);
});

function push(inputs: Record<string, string>) {
  const runner = new RecordingRunner();
  const { ctx, recorded } = createTestContext({ 'tls-verify': 'false', ...inputs }, { runner });
  return { run: () => main(ctx), recorded, runner };
}

describe('push-layout against a real registry', () => {
  test('the real buildx layout is pushed with every platform and attestation, and reads back with the same digest', async () => {
    const { path, digest } = untarBuildxLayout();
    const image = `${registry.host}/buildx/hello`;
    const { run, recorded, runner } = push({
      'layout-path': path,
      digest,
      image,
      tags: `sha-1a2b3c4\n${image}:v1.0.0`,
    });
    await run();
    expect(recorded.outputs.digest).toBe(digest);
    expect(recorded.outputs['image-ref']).toBe(`${image}@${digest}`);
    expect(recorded.outputs.tags).toBe(`${image}:sha-1a2b3c4\n${image}:v1.0.0`);
    expect(Object.keys(JSON.parse(recorded.outputs.platforms ?? '{}'))).toEqual(['linux/amd64', 'linux/arm64']);
    const copies = runner.of('skopeo', 'copy');
    // One push of every manifest by digest (no tag at risk while uploading), then one index-only write per tag.
    expect(copies).toHaveLength(3);
    expect(copies[0]?.args).toEqual(expect.arrayContaining(['--all', '--preserve-digests']));
    for (const copy of copies.slice(1))
      expect(copy.args).toEqual(expect.arrayContaining(['--multi-arch', 'index-only', '--preserve-digests']));
    expect(copies[0]?.args.at(-2)).toBe(`oci:${path}`);
    // Independent read-back with skopeo itself: the index bytes in the registry hash to the scanned digest,
    // and both platform manifests and the attestations are there.
    const skopeo = new Skopeo(runner, { tlsVerify: false });
    expect(await skopeo.digestOf(`${image}:v1.0.0`)).toBe(digest);
    const raw = runner.calls.at(-1)?.stdout ?? '';
    expect(sha256Digest(raw)).toBe(digest);
    const index = JSON.parse(raw) as { manifests: { digest: string }[] };
    for (const child of index.manifests) expect(await skopeo.digestOf(`${image}@${child.digest}`)).toBe(child.digest);
    expect(recorded.summary).toContain(`${image}@${digest}`);
  });

  test('the second tag and a re-run move no layers; a re-run is idempotent', async () => {
    const dir = tempDir();
    const built = await buildLayout(dir, {
      platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
      layerSizes: [300_000, 50_000],
    });
    const image = `${registry.host}/builder/three`;
    const uploads = () => registry.requests(/"POST \/v2\/builder\/three\/blobs\/uploads\//).length;
    const first = push({ 'layout-path': dir, digest: built.digest, image, tags: 'sha-aaa' });
    await first.run();
    // 3 platforms x (2 layers + config) + 3 attestations x (1 layer + config)
    expect(uploads()).toBe(15);
    const again = push({ 'layout-path': dir, digest: built.digest, image, tags: 'sha-aaa,sha-bbb' });
    await again.run();
    expect(uploads()).toBe(15);
    expect(again.recorded.outputs.digest).toBe(built.digest);
    expect(again.recorded.logs).toContain(`${image}:sha-aaa: already ${built.digest} (re-run)`);
    const repository = join(registry.storage, 'docker/registry/v2/repositories/builder/three/_manifests/tags');
    expect(readdirSync(repository).sort()).toEqual(['sha-aaa', 'sha-bbb']);
    expect(JSON.parse(again.recorded.outputs.platforms ?? '{}')).toEqual(built.platforms);
  });

  test('with the race guard off, the layout goes straight to its first tag: one copy per tag, no wait', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'], seed: 'unguarded' });
    const image = `${registry.host}/unguarded/app`;
    const { run, recorded, runner } = push({
      'layout-path': built.path,
      digest: built.digest,
      image,
      tags: 'sha-1,sha-2',
      'tag-race-window-ms': '0',
    });
    await run();
    const copies = runner.of('skopeo', 'copy').map((call) => call.args.slice(-2));
    expect(copies).toEqual([
      [`oci:${built.path}`, `docker://${image}:sha-1`],
      [`oci:${built.path}`, `docker://${image}:sha-2`],
    ]);
    expect(recorded.logs.join('\n')).not.toContain('Waiting');
    expect(recorded.outputs.digest).toBe(built.digest);
  });

  test('an immutable tag that points elsewhere is refused before any push; allow-overwrite moves it', async () => {
    const image = `${registry.host}/immutable/app`;
    const a = await buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'a' });
    const b = await buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'b' });
    await push({ 'layout-path': a.path, digest: a.digest, image, tags: 'sha-1' }).run();
    const refused = push({ 'layout-path': b.path, digest: b.digest, image, tags: 'sha-2\nsha-1' });
    await expect(refused.run()).rejects.toThrow(
      `Refusing to move immutable tags:\n${image}:sha-1 already points at ${a.digest}`,
    );
    expect(refused.runner.of('skopeo', 'copy')).toHaveLength(0);
    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    expect(await skopeo.digestOf(`${image}:sha-2`)).toBeUndefined();
    const overwrite = push({
      'layout-path': b.path,
      digest: b.digest,
      image,
      tags: 'sha-1',
      'allow-overwrite': 'true',
    });
    await overwrite.run();
    expect(await skopeo.digestOf(`${image}:sha-1`)).toBe(b.digest);
  });

  test('a registry with basic auth: credentials through a private auth file, never on the command line or in logs', async () => {
    const built = await buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'] });
    const image = `${authRegistry.host}/private/app`;
    const ok = push({
      'layout-path': built.path,
      digest: built.digest,
      image,
      tags: 'sha-1',
      username: 'ci',
      password: 's3cret-Pa55',
    });
    await ok.run();
    expect(ok.recorded.outputs.digest).toBe(built.digest);
    expect(ok.recorded.secrets).toContain('s3cret-Pa55');
    for (const call of ok.runner.calls) expect(call.args.join(' ')).not.toContain('s3cret-Pa55');
    expect(everythingPrinted(ok.recorded)).not.toContain('s3cret-Pa55');

    const denied = push({
      'layout-path': built.path,
      digest: built.digest,
      image,
      tags: 'sha-2',
      username: 'ci',
      password: 'wrong',
    });
    await expect(denied.run()).rejects.toThrow(/refused the credentials/);
    expect(denied.runner.of('skopeo', 'copy')).toHaveLength(0);
  });
});

describe('push-layout refuses before any network call', () => {
  const image = 'localhost:1/never/used';
  let layout: Awaited<ReturnType<typeof buildLayout>>;
  beforeAll(async () => {
    layout = await buildLayout(tempDir(), { platforms: ['linux/amd64', 'linux/arm64'] });
  });
  test.each([
    [{ digest: 'sha256:1234' }, 'Input "digest": must be "sha256:" followed by 64 lowercase hex characters'],
    [{ image: 'LOCALHOST:5000/App' }, 'Input "image": must be lowercase'],
    [{ tags: 'has space' }, 'Input "tags": tag "has space" is not valid'],
    [{ tags: 'a'.repeat(129) }, 'Input "tags": tag "aaaaaaaa'],
    [
      { tags: 'feature/login' },
      'Input "tags": tag "feature/login" is not valid: use letters, digits, "_", "." and "-", not starting with "." or "-"; a branch or other name becomes a tag the way docker/metadata-action (type=ref) writes it, every other character replaced by "-": "feature-login"',
    ],
    [
      { tags: 'sha-1a2b3c4,nightly-{date}' },
      'Input "tags": "nightly-{date}" holds the placeholder {date}, which push-layout does not expand: it writes immutable tags exactly as given. {date} is expanded by promote-tags (its tags input) and by the root action and the reusable workflow (rolling-tags)',
    ],
    [
      { tags: 'latest' },
      'Input "tags": latest is a rolling tag, but push-layout pushes immutable tags, which never move: latest would stay on this build, and every later push of another commit would be refused. Give an immutable tag here (sha-<commit>, for example sha-1a2b3c4, or a version such as 1.2.3), and move latest with promote-tags after sign-digest',
    ],
    [{ tags: `sha-1a2b3c4\n${image}:latest` }, 'Input "tags": latest is a rolling tag'],
    [{ tags: 'ghcr.io/other/app:v1' }, 'names another image than "localhost:1/never/used"'],
    [{ password: 'p' }, 'Input "password" is set but "username" is empty'],
    [{ tags: '' }, 'Input "tags": is required'],
    [{ 'tls-verify': 'maybe' }, 'Input "tls-verify": must be true or false, got "maybe"'],
    [{ digest: `sha256:${'0'.repeat(64)}` }, 'but the "digest" input is sha256:0000'],
  ])('%j', async (bad, message) => {
    const { run, runner } = push({ 'layout-path': layout.path, digest: layout.digest, image, tags: 'sha-1', ...bad });
    await expect(run()).rejects.toThrow(message);
    expect(runner.calls.filter((call) => call.args.includes('copy') || call.args.includes('inspect'))).toHaveLength(0);
  });
});

describe('push-layout with its read-back deferred (the root action signs during the race window)', () => {
  test('nothing waits inside the step; the later read-back waits out the window and catches a concurrent writer', async () => {
    const [ours, theirs] = await Promise.all([
      buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'deferred-ours' }),
      buildLayout(tempDir(), { platforms: ['linux/amd64'], seed: 'deferred-theirs' }),
    ]);
    const image = `${registry.host}/deferred/app`;
    let readBack: (() => Promise<void>) | undefined;
    const { ctx, recorded } = createTestContext(
      { 'layout-path': ours.path, digest: ours.digest, image, tags: 'sha-1a2b3c4', 'tls-verify': 'false' },
      { runner: new RecordingRunner() },
    );
    await main(ctx, { deferReadBack: (later) => (readBack = later) });
    expect(recorded.logs.join('\n')).not.toContain('Waiting 1500 ms');
    expect(recorded.outputs.tags).toBe(`${image}:sha-1a2b3c4`);
    // another run writes the tag within the window: the read-back, when it comes, refuses
    const skopeo = new Skopeo(new RecordingRunner(), { tlsVerify: false });
    await skopeo.pushLayout(theirs.path, image, 'sha-1a2b3c4');
    await expect((readBack as () => Promise<void>)()).rejects.toThrow(
      `tag ${image}:sha-1a2b3c4 was taken by digest ${theirs.digest} while this run was pushing ${ours.digest}`,
    );
    expect(recorded.logs.join('\n')).toMatch(/Waiting \d+ ms more, until the race guard's window has passed\./);
  });
});

describe('push-layout: latest with allow-overwrite, and tags the tag rule calls rolling', () => {
  test('latest moves when allow-overwrite says so, with a word that no immutable tag was given', async () => {
    const layout = await buildLayout(tempDir(), { platforms: ['linux/amd64'] });
    const image = `${registry.host}/rolling/only-latest`;
    const { run, recorded } = push({
      'layout-path': layout.path,
      digest: layout.digest,
      image,
      tags: 'latest',
      'allow-overwrite': 'true',
      'tag-race-window-ms': '0',
    });
    await run();
    expect(recorded.outputs.tags).toBe(`${image}:latest`);
    expect(recorded.warnings.join('\n')).toContain(
      'No tag in "tags" (latest) is immutable by the tag rule (immutable: sha-<7 to 64 hex> and full versions',
    );
  });
});
