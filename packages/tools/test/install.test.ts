import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInputs, UserError } from '@golden-image/kit';
import { createTestContext } from '@golden-image/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { ensureTool, PINS, type PinTable, toolInputSpec, toolRequest } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'tools-test-'));
const requests: string[] = [];
const files = new Map<string, Buffer>();
let server: Server;
let mirror: string;
const saved = { ...process.env };

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A tar.gz holding one fake executable at its root, built with the system tar like a release archive. */
function fakeArchive(name: string): Buffer {
  const dir = mkdtempSync(join(root, 'src-'));
  writeFileSync(join(dir, name), `#!/bin/sh\necho "fake ${name} $*"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'LICENSE'), 'test');
  const file = join(root, `${name}-${Math.random().toString(36).slice(2)}.tar.gz`);
  execFileSync('tar', ['czf', file, '-C', dir, name, 'LICENSE']);
  return readFileSync(file);
}

const trivyArchive = fakeArchive('trivy');
const osvBinary = Buffer.from('#!/bin/sh\necho "fake osv-scanner $*"\n');
const pins: PinTable = {
  ...PINS,
  trivy: {
    ...PINS.trivy,
    sha256: {
      ...PINS.trivy.sha256,
      '9.9.9': { 'linux-x64': sha(trivyArchive), 'linux-arm64': '0'.repeat(64), 'darwin-arm64': '0'.repeat(64) },
    },
  },
  'osv-scanner': {
    ...PINS['osv-scanner'],
    sha256: {
      ...PINS['osv-scanner'].sha256,
      '9.9.9': { 'linux-x64': sha(osvBinary), 'linux-arm64': '0'.repeat(64), 'darwin-arm64': '0'.repeat(64) },
    },
  },
};

beforeAll(async () => {
  files.set('/aquasecurity/trivy/releases/download/v9.9.9/trivy_9.9.9_Linux-64bit.tar.gz', trivyArchive);
  files.set('/aquasecurity/trivy/releases/download/v9.9.8/trivy_9.9.8_Linux-64bit.tar.gz', trivyArchive);
  files.set('/google/osv-scanner/releases/download/v9.9.9/osv-scanner_linux_amd64', osvBinary);
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.RUNNER_TOOL_CACHE = join(root, 'toolcache');
  process.env.RUNNER_TEMP = join(root, 'temp');
  mkdirSync(process.env.RUNNER_TEMP, { recursive: true });
  delete process.env.ACTIONS_CACHE_URL;
  delete process.env.ACTIONS_RESULTS_URL;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  process.env = saved;
});

beforeEach(() => {
  requests.length = 0;
});

const options = { pins, platform: 'linux-x64' as const };

describe('ensureTool', () => {
  test('downloads and verifies a tar.gz; a second run makes no request, but checks the archive again and extracts it afresh', async () => {
    const { ctx, recorded } = createTestContext({});
    const path = await ensureTool(ctx, { tool: 'trivy', version: '9.9.9', mirror, install: true }, options);
    expect(requests).toEqual(['/aquasecurity/trivy/releases/download/v9.9.9/trivy_9.9.9_Linux-64bit.tar.gz']);
    expect(path.startsWith(join(process.env.RUNNER_TEMP as string, 'golden-image-trivy-'))).toBe(true);
    expect(execFileSync(path, ['--version']).toString()).toBe('fake trivy --version\n');
    expect(recorded.logs.join('\n')).toMatch(/verified \(SHA-256 [0-9a-f]{64}\)/);
    expect(recorded.logs.join('\n')).toMatch(/actions cache is not available here/);

    const again = createTestContext({});
    const second = await ensureTool(again.ctx, { tool: 'trivy', version: '9.9.9', mirror, install: true }, options);
    expect(second).not.toBe(path);
    expect(execFileSync(second, ['--version']).toString()).toBe('fake trivy --version\n');
    expect(requests).toHaveLength(1);
    expect(again.recorded.logs.join('\n')).toMatch(/verified \(SHA-256 [0-9a-f]{64}\)/);
  });

  test('a planted executable beside a copied marker in the tool cache never runs', async () => {
    // What a poisoned tool cache looked like to the old code: the right marker, the wrong executable.
    const planted = join(process.env.RUNNER_TOOL_CACHE as string, 'trivy', '9.9.9', 'x64');
    mkdirSync(planted, { recursive: true });
    writeFileSync(join(planted, 'trivy'), '#!/bin/sh\necho planted\n', { mode: 0o755 });
    writeFileSync(join(planted, '.golden-image-sha256'), `${pins.trivy.sha256['9.9.9']?.['linux-x64']}\n`);
    writeFileSync(`${planted}.complete`, '');
    const { ctx } = createTestContext({});
    const path = await ensureTool(ctx, { tool: 'trivy', version: '9.9.9', mirror, install: true }, options);
    expect(execFileSync(path, ['--version']).toString()).toBe('fake trivy --version\n');
  });

  test('a cached archive that was changed is refused and downloaded again', async () => {
    const { ctx } = createTestContext({});
    await ensureTool(ctx, { tool: 'trivy', version: '9.9.9', mirror, install: true }, options);
    const downloads = join(process.env.RUNNER_TOOL_CACHE as string, '_golden-image-downloads');
    const [dir] = readdirSync(downloads).filter((name) => name.startsWith('trivy-9.9.9-'));
    writeFileSync(join(downloads, dir as string, 'trivy_9.9.9_Linux-64bit.tar.gz'), 'not the release');
    requests.length = 0;
    const again = createTestContext({});
    const path = await ensureTool(again.ctx, { tool: 'trivy', version: '9.9.9', mirror, install: true }, options);
    expect(requests).toHaveLength(1);
    expect(again.recorded.warnings.join('\n')).toMatch(/does not match SHA-256/);
    expect(execFileSync(path, ['--version']).toString()).toBe('fake trivy --version\n');
  });

  test('installs a raw executable asset (osv-scanner) under the tool name', async () => {
    const { ctx } = createTestContext({});
    const path = await ensureTool(ctx, { tool: 'osv-scanner', version: '9.9.9', mirror, install: true }, options);
    expect(path).toMatch(/\/golden-image-osv-scanner-[^/]+\/osv-scanner$/);
    expect(execFileSync(path, ['scan']).toString()).toBe('fake osv-scanner scan\n');
  });

  test('a checksum mismatch is one error naming tool, version and URL; nothing is cached', async () => {
    const { ctx } = createTestContext({});
    const wrong = 'a'.repeat(64);
    const error = await ensureTool(
      ctx,
      { tool: 'trivy', version: '9.9.8', sha256: wrong, mirror, install: true },
      options,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain('Checksum mismatch for trivy 9.9.8');
    expect(error.message).toContain(
      `${mirror}/aquasecurity/trivy/releases/download/v9.9.8/trivy_9.9.8_Linux-64bit.tar.gz`,
    );
    expect(error.message).toContain(`expected SHA-256 ${wrong}, got ${sha(trivyArchive)}`);
    expect(existsSync(join(process.env.RUNNER_TOOL_CACHE as string, 'trivy', '9.9.8'))).toBe(false);
    // The right checksum for the same asset works: the failure came from the hash, not the download.
    const path = await ensureTool(
      ctx,
      { tool: 'trivy', version: '9.9.8', sha256: sha(trivyArchive), mirror, install: true },
      options,
    );
    expect(existsSync(path)).toBe(true);
  });

  test('a 404 is one error naming tool, version and URL', async () => {
    const { ctx } = createTestContext({});
    const error = await ensureTool(
      ctx,
      { tool: 'trivy', version: '9.9.7', sha256: 'b'.repeat(64), mirror, install: true },
      options,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toContain(
      `Could not download trivy 9.9.7 from ${mirror}/aquasecurity/trivy/releases/download/v9.9.7/trivy_9.9.7_Linux-64bit.tar.gz`,
    );
    expect(error.message).toContain('404');
    expect(requests).toHaveLength(1);
  });

  test('install: false returns the bare name when the tool is on PATH, and names tool, version and URL when not', async () => {
    const bin = mkdtempSync(join(root, 'bin-'));
    writeFileSync(join(bin, 'syft'), '#!/bin/sh\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const { ctx } = createTestContext({});
      expect(await ensureTool(ctx, { tool: 'syft', install: false }, options)).toBe('syft');
      const error = await ensureTool(ctx, { tool: 'cosign', install: false }, options).catch((e) => e);
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toContain('cosign was not found on PATH');
      expect(error.message).toContain('cosign 2.6.5');
      expect(error.message).toContain('https://github.com/sigstore/cosign/releases/download/v2.6.5/cosign-linux-amd64');
    } finally {
      process.env.PATH = path;
    }
    expect(requests).toHaveLength(0);
  });

  test('refuses an override that contradicts the embedded pin, and deny-listed hashes', async () => {
    const { ctx } = createTestContext({});
    const contradict = await ensureTool(
      ctx,
      { tool: 'trivy', version: '0.75.0', sha256: 'c'.repeat(64), mirror, install: true },
      options,
    ).catch((e) => e);
    expect(contradict.message).toContain(
      'the suite pins c6e65abddb348e25f10549df887045629cf28cc72453cd1c63acb717316b3f3f',
    );
    const refused = await ensureTool(
      ctx,
      { tool: 'trivy', version: '0.69.4', sha256: 'd'.repeat(64), mirror, install: true },
      options,
    ).catch((e) => e);
    expect(refused.message).toMatch(/0\.69\.4 is refused: compromised release/);
    expect(requests).toHaveLength(0);
  });
});

describe('tool inputs', () => {
  const parse = (raw: Record<string, string>) => parseInputs(toolInputSpec('trivy'), (name) => raw[name] ?? '');

  test('defaults: pinned version, install-tools true', () => {
    const inputs = parse({});
    expect(toolRequest('trivy', inputs)).toEqual({ tool: 'trivy', install: true });
    expect(toolRequest('trivy', parse({ 'install-tools': 'false' }))).toEqual({ tool: 'trivy', install: false });
  });

  test.each([
    ['latest', /moving names like "latest" are refused/],
    ['0.69.4', /trivy 0\.69\.4 is refused: compromised release/],
    ['0.69.6', /trivy 0\.69\.6 is refused/],
    ['v0.69.5', /trivy 0\.69\.5 is refused/],
    ['0.75', /exact release version/],
  ])('trivy-version %s is refused', (version, message) => {
    expect(() => parse({ 'trivy-version': version })).toThrow(message);
    expect(() => parse({ 'trivy-version': version })).toThrow(/Input "trivy-version"/);
  });

  test('a version with no known checksum needs trivy-sha256', () => {
    expect(() => toolRequest('trivy', parse({ 'trivy-version': '0.76.0' }))).toThrow(
      /Input "trivy-version": the suite has no checksum for trivy 0.76.0/,
    );
    const sha = 'e'.repeat(64);
    expect(
      toolRequest(
        'trivy',
        parse({ 'trivy-version': 'v0.76.0', 'trivy-sha256': sha, 'tool-mirror': 'https://ghe.example.com/' }),
      ),
    ).toEqual({
      tool: 'trivy',
      version: '0.76.0',
      sha256: sha,
      mirror: 'https://ghe.example.com',
      install: true,
    });
    expect(toolRequest('trivy', parse({ 'trivy-version': '0.74.0' })).version).toBe('0.74.0');
  });

  test('bad sha256, deny-listed sha256 and bad mirrors are input errors', () => {
    expect(() => parse({ 'trivy-sha256': 'xyz' })).toThrow(/Input "trivy-sha256": must be the SHA-256/);
    expect(() => parse({ 'trivy-sha256': '385d498d18a3a7c67878ca7322716f9da25683eb1a4bf9e9592da0d5f2ab09f6' })).toThrow(
      /known-malicious/,
    );
    expect(() => parse({ 'tool-mirror': 'ftp://x' })).toThrow(/Input "tool-mirror": must be an http\(s\) URL/);
  });
});
